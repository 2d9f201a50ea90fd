package survey

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"tsunagu/internal/customer"
	"tsunagu/internal/line"
	"tsunagu/internal/textfold"
)

// Postback data: "sv:<survey>:<token>:<action>" for a question's buttons,
// "svs:<start token>" for a campaign card's start button.
const (
	dataPrefix      = "sv:"
	startDataPrefix = "svs:"
)

// Actions carried after the token.
const (
	actChoose  = "c:" // + choice ID (single choice)
	actToggle  = "t:" // + choice ID (multiple choice)
	actSubmit  = "s"  // multiple choice: 回答する
	actDate    = "d"  // datetime picker (the date is in the params)
	actResume  = "r"  // 続きから回答
	actRestart = "n"  // 最初から
)

// Texts the customer sees (Japanese; the account speaks Japanese).
const (
	labelSubmit     = "回答する"
	labelDate       = "日付を選ぶ"
	labelResume     = "続きから回答"
	labelRestart    = "最初から"
	labelStart      = "回答する"
	textResume      = "前回の続きから回答しますか？"
	textAlready     = "このアンケートにはすでにご回答いただいています。ありがとうございました。"
	textPaused      = "アンケートを中断しました。もう一度始めると、続きから回答できます。"
	textClosed      = "このアンケートは終了しました。"
	textNumberRetry = "申し訳ありません、数字でお答えください（例：3）。"
	textDateRetry   = "申し訳ありません、日付として読めませんでした。下のボタンから選ぶか、2026-05-01 のようにお送りください。"
	textTextRetry   = "申し訳ありません、%d文字以内でお答えください。"
	textPickOne     = "（1つ選んでください）"
	textPickMany    = "（複数選べます。選び終えたら「回答する」を押してください）"
	textSelected    = "選択中："
	textNone        = "なし"
	textPickFirst   = "1つ以上選んでから「回答する」を押してください。"
	hintNumber      = "（数字でお答えください）"
	hintDate        = "（下のボタンから日付を選ぶか、日付をお送りください）"
	hintText        = "（メッセージでお答えください）"
)

// isStopWord reports whether a message pauses a running survey: one of the
// stop words, compared by the one search key (so ＳＴＯＰ and ヤメル count).
func isStopWord(text string) bool {
	switch textfold.Fold(text) {
	case textfold.Fold("やめる"), textfold.Fold("中止"), textfold.Fold("中断"), "stop", textfold.Fold("ストップ"), textfold.Fold("終了"):
		return true
	}
	return false
}

func data(surveyID int64, token, act string) string {
	return dataPrefix + strconv.FormatInt(surveyID, 10) + ":" + token + ":" + act
}

// parseData splits question postback data; ok false if it is not survey
// data at all.
func parseData(d string) (surveyID int64, token, act string, ok bool) {
	if !strings.HasPrefix(d, dataPrefix) {
		return 0, "", "", false
	}
	parts := strings.SplitN(d[len(dataPrefix):], ":", 3)
	if len(parts) != 3 {
		return 0, "", "", true
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return 0, "", "", true
	}
	return id, parts[1], parts[2], true
}

type action map[string]any

func postback(label, data, display string) action {
	a := action{"type": "postback", "label": label, "data": data}
	if display != "" {
		a["displayText"] = display
	}
	return a
}

func quickItem(a action) map[string]any { return map[string]any{"type": "action", "action": a} }

// textWithQuickReply is a text message with quick reply buttons.
func textWithQuickReply(text string, actions []action) (line.Message, error) {
	m := map[string]any{"type": "text", "text": text}
	if len(actions) > 0 {
		items := make([]map[string]any, len(actions))
		for i, a := range actions {
			items[i] = quickItem(a)
		}
		m["quickReply"] = map[string]any{"items": items}
	}
	return encode(m)
}

// buttonBubble is a Flex bubble with the text and one button per action.
func buttonBubble(text string, actions []action) (line.Message, error) {
	contents := []any{map[string]any{"type": "text", "text": text, "wrap": true, "weight": "bold", "size": "md"}}
	for _, a := range actions {
		contents = append(contents, map[string]any{"type": "button", "style": "secondary", "height": "sm", "action": a})
	}
	return encode(map[string]any{
		"type":    "flex",
		"altText": truncate(text, 400),
		"contents": map[string]any{"type": "bubble", "body": map[string]any{
			"type": "box", "layout": "vertical", "spacing": "sm", "contents": contents}},
	})
}

func encode(m map[string]any) (line.Message, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return line.Message{}, err
	}
	return line.ParseMessage(raw)
}

// askMessage builds the message asking q, with its buttons carrying token.
// selected are the multiple choice answers toggled on so far; prefix (a
// polite re-ask) goes before the question.
func askMessage(sv Survey, q Question, token string, selected []string, prefix string) (line.Message, string, error) {
	_, i, _ := sv.question(q.ID)
	head := fmt.Sprintf("【質問%d/%d】\n%s", i+1, len(sv.Questions), q.Text)
	if prefix != "" {
		head = prefix + "\n\n" + head
	}
	on := map[string]bool{}
	for _, id := range selected {
		on[id] = true
	}
	switch q.Type {
	case TypeSingle:
		text := head + "\n" + textPickOne
		acts := make([]action, len(q.Choices))
		for j, c := range q.Choices {
			acts[j] = postback(c.Label, data(sv.ID, token, actChoose+c.ID), c.Label)
		}
		if len(acts) <= MaxQuickReply {
			m, err := textWithQuickReply(text, acts)
			return m, text, err
		}
		m, err := buttonBubble(text, acts)
		return m, text, err
	case TypeMulti:
		var names []string
		acts := make([]action, 0, len(q.Choices)+1)
		for _, c := range q.Choices {
			label := c.Label
			if on[c.ID] {
				names = append(names, c.Label)
				label = truncate("✓"+c.Label, MaxLabel)
			}
			acts = append(acts, postback(label, data(sv.ID, token, actToggle+c.ID), ""))
		}
		sel := textNone
		if len(names) > 0 {
			sel = strings.Join(names, "、")
		}
		text := head + "\n" + textPickMany + "\n" + textSelected + sel
		acts = append(acts, postback(labelSubmit, data(sv.ID, token, actSubmit), labelSubmit))
		if len(q.Choices) <= multiQuickChoices {
			m, err := textWithQuickReply(text, acts)
			return m, text, err
		}
		m, err := buttonBubble(text, acts)
		return m, text, err
	case TypeDate:
		text := head + "\n" + hintDate
		m, err := textWithQuickReply(text, []action{{"type": "datetimepicker", "label": labelDate, "data": data(sv.ID, token, actDate), "mode": "date"}})
		return m, text, err
	case TypeNumber:
		text := head + "\n" + hintNumber
		m, err := textWithQuickReply(text, nil)
		return m, text, err
	default:
		text := head + "\n" + hintText
		m, err := textWithQuickReply(text, nil)
		return m, text, err
	}
}

// resumeMessage asks whether to go on from where the customer stopped.
func resumeMessage(surveyID int64, token string) (line.Message, error) {
	return textWithQuickReply(textResume, []action{
		postback(labelResume, data(surveyID, token, actResume), labelResume),
		postback(labelRestart, data(surveyID, token, actRestart), labelRestart),
	})
}

// parseAnswer checks an answer given as text (a chat message, a staff
// entry, a CSV cell) and returns its canonical value and, for a single
// choice, the choice ID.
func parseAnswer(q Question, v string) (value, choice string, err error) {
	v = customer.NormalizeText(v)
	if v == "" {
		return "", "", fmt.Errorf("%w: empty", ErrAnswer)
	}
	switch q.Type {
	case TypeNumber:
		f, perr := strconv.ParseFloat(strings.ReplaceAll(customer.NormalizeKey(v), ",", ""), 64)
		if perr != nil {
			return "", "", fmt.Errorf("%w: not a number", ErrAnswer)
		}
		return strconv.FormatFloat(f, 'f', -1, 64), "", nil
	case TypeDate:
		d, perr := customer.ParseDate(v)
		if perr != nil || d == "" {
			return "", "", fmt.Errorf("%w: not a date", ErrAnswer)
		}
		return d, "", nil
	case TypeText:
		if len([]rune(v)) > maxTextAnswer {
			return "", "", fmt.Errorf("%w: longer than %d characters", ErrAnswer, maxTextAnswer)
		}
		return v, "", nil
	case TypeSingle:
		c, ok := findChoice(q, v)
		if !ok {
			return "", "", fmt.Errorf("%w: not one of the choices", ErrAnswer)
		}
		return c.Label, c.ID, nil
	case TypeMulti:
		var labels []string
		seen := map[string]bool{}
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == '、' || r == ',' || r == '\n' || r == ';' || r == '，' }) {
			c, ok := findChoice(q, trim(part))
			if !ok {
				return "", "", fmt.Errorf("%w: not one of the choices", ErrAnswer)
			}
			if !seen[c.ID] {
				seen[c.ID] = true
				labels = append(labels, c.Label)
			}
		}
		if len(labels) == 0 {
			return "", "", fmt.Errorf("%w: empty", ErrAnswer)
		}
		return multiValue(q, seen), "", nil
	}
	return "", "", fmt.Errorf("%w: unknown question type", ErrAnswer)
}

// multiValue joins the selected choices' labels in the question's order.
func multiValue(q Question, on map[string]bool) string {
	var labels []string
	for _, c := range q.Choices {
		if on[c.ID] {
			labels = append(labels, c.Label)
		}
	}
	return strings.Join(labels, "\n")
}

func findChoice(q Question, v string) (Choice, bool) {
	key := customer.NormalizeKey(v)
	for _, c := range q.Choices {
		if customer.NormalizeKey(c.Label) == key || c.ID == v {
			return c, true
		}
	}
	return Choice{}, false
}

// postbackLabels finds the postback actions of a message object: data to
// what the chat shows when it is tapped (displayText, else label).
func postbackLabels(raw []byte) map[string]string {
	out := map[string]string{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if typ, _ := t["type"].(string); typ == "postback" || typ == "datetimepicker" {
				d, _ := t["data"].(string)
				label, _ := t["displayText"].(string)
				if label == "" {
					label, _ = t["label"].(string)
				}
				if d != "" {
					out[d] = label
				}
			}
			for _, c := range t {
				walk(c)
			}
		case []any:
			for _, c := range t {
				walk(c)
			}
		}
	}
	var v any
	if json.Unmarshal(raw, &v) == nil {
		walk(v)
	}
	return out
}
