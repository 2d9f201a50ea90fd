package campaign

import (
	"encoding/json"
	"fmt"
	"strings"
	"tsunagu/internal/fielderr"
	"unicode/utf8"
)

// Template is a built-in Flex card a campaign fills in.
type Template struct {
	Name   string   `json:"name"`
	Label  string   `json:"label"`
	Fields []string `json:"fields"` // in form order; "url" and "button" are optional
	Needed []string `json:"needed"`
}

// Templates are the built-in Flex templates.
var Templates = []Template{
	{Name: "notice", Label: "お知らせ", Fields: []string{"title", "body", "url", "button"}, Needed: []string{"title", "body"}},
	{Name: "maturity", Label: "満期のご案内", Fields: []string{"product", "date", "body", "url", "button"}, Needed: []string{"product", "date", "body"}},
	{Name: "seminar", Label: "セミナー案内", Fields: []string{"title", "date", "place", "body", "url", "button"}, Needed: []string{"title", "date", "place"}},
	// survey: "survey" is a start button's postback data from
	// survey.Service.StartData (the editor fills it when a survey is picked).
	{Name: "survey", Label: "アンケートのお願い", Fields: []string{"title", "body", "button", "survey"}, Needed: []string{"title", "survey"}},
}

const (
	brandColor     = "#1f6f5c"
	maxFlexField   = 500
	maxButtonLabel = 20
)

type obj = map[string]any

func flexText(text string, extra obj) obj {
	o := obj{"type": "text", "text": text, "wrap": true}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

func flexRow(label, value string) obj {
	return obj{"type": "box", "layout": "baseline", "spacing": "sm", "contents": []any{
		flexText(label, obj{"size": "sm", "color": "#888888", "flex": 2}),
		flexText(value, obj{"size": "sm", "color": "#333333", "flex": 5}),
	}}
}

// flexMessage builds a Flex message from a template; fields may hold
// placeholders.
func flexMessage(name string, fields map[string]string, fill func(string) (string, error)) ([]byte, error) {
	var tpl *Template
	for i := range Templates {
		if Templates[i].Name == name {
			tpl = &Templates[i]
		}
	}
	if tpl == nil {
		return nil, fielderr.New(ErrInvalid, "template", fielderr.Choose)
	}
	f := make(map[string]string, len(fields))
	for k, v := range fields {
		if !contains(tpl.Fields, k) {
			return nil, fmt.Errorf("%w: template %s has no field %q", ErrInvalid, name, k)
		}
		v, err := fill(v)
		if err != nil {
			return nil, err
		}
		v = strings.TrimSpace(v)
		if utf8.RuneCountInString(v) > maxFlexField {
			return nil, fielderr.NewMax(ErrInvalid, "fields."+k, fielderr.TooLong, maxFlexField)
		}
		f[k] = v
	}
	for _, k := range tpl.Needed {
		if f[k] == "" {
			return nil, fielderr.New(ErrInvalid, "fields."+k, fielderr.Required)
		}
	}
	var title, alt string
	var body []any
	switch name {
	case "notice":
		title, alt = f["title"], f["title"]
		body = []any{flexText(f["body"], obj{"size": "sm"})}
	case "maturity":
		title, alt = "満期のご案内", "満期のご案内: "+f["product"]
		body = []any{
			flexRow("商品", f["product"]),
			flexRow("満期日", f["date"]),
			flexText(f["body"], obj{"size": "sm", "margin": "md"}),
		}
	case "seminar":
		title, alt = f["title"], "セミナーのご案内: "+f["title"]
		body = []any{flexRow("日時", f["date"]), flexRow("会場", f["place"])}
		if f["body"] != "" {
			body = append(body, flexText(f["body"], obj{"size": "sm", "margin": "md"}))
		}
	case "survey":
		title, alt = f["title"], "アンケートのお願い: "+f["title"]
		if f["body"] != "" {
			body = []any{flexText(f["body"], obj{"size": "sm"})}
		}
	}
	bubble := obj{
		"type": "bubble",
		"header": obj{"type": "box", "layout": "vertical", "backgroundColor": brandColor, "contents": []any{
			flexText(title, obj{"weight": "bold", "color": "#ffffff", "size": "md"}),
		}},
		"body": obj{"type": "box", "layout": "vertical", "spacing": "sm", "contents": body},
	}
	if name == "survey" {
		footer, err := surveyButton(f["survey"], f["button"])
		if err != nil {
			return nil, err
		}
		bubble["footer"] = footer
	}
	if u := f["url"]; u != "" {
		if err := checkHTTPS(u); err != nil {
			return nil, fielderr.New(ErrInvalid, "fields.url", fielderr.HTTPS)
		}
		label := f["button"]
		if label == "" {
			label = "詳しく見る"
		}
		if utf8.RuneCountInString(label) > maxButtonLabel {
			return nil, fielderr.NewMax(ErrInvalid, "fields.button", fielderr.TooLong, maxButtonLabel)
		}
		bubble["footer"] = obj{"type": "box", "layout": "vertical", "contents": []any{
			obj{"type": "button", "style": "primary", "color": brandColor, "action": obj{"type": "uri", "label": label, "uri": u}},
		}}
	}
	if utf8.RuneCountInString(alt) > 400 {
		alt = string([]rune(alt)[:400])
	}
	return json.Marshal(obj{"type": "flex", "altText": alt, "contents": bubble})
}

// surveyButton is the start button of a survey card: a postback whose data
// is a start token issued by package survey ("svs:" and 22 URL-safe
// characters), which the survey hook turns into the tapper's own survey.
func surveyButton(data, label string) (obj, error) {
	if !strings.HasPrefix(data, "svs:") || len(data) != 26 || strings.Trim(data[4:], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return nil, fielderr.New(ErrInvalid, "fields.survey", fielderr.Choose)
	}
	if label == "" {
		label = "回答する"
	}
	if utf8.RuneCountInString(label) > maxButtonLabel {
		return nil, fielderr.NewMax(ErrInvalid, "fields.button", fielderr.TooLong, maxButtonLabel)
	}
	return obj{"type": "box", "layout": "vertical", "contents": []any{
		obj{"type": "button", "style": "primary", "color": brandColor, "action": obj{"type": "postback", "label": label, "data": data, "displayText": label}},
	}}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
