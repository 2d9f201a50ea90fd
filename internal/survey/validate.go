package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"tsunagu/internal/fielderr"

	"tsunagu/internal/customer"
)

// Limits, from LINE's (quick replies: 13 items, labels 20 characters;
// postback data 300 characters; Flex buttons) and from what a chat survey
// can reasonably ask.
const (
	MaxQuestions      = 30
	MaxChoices        = 20 // more than fit in quick replies go in a Flex bubble of buttons
	MaxQuickReply     = 13 // LINE's limit of quick reply items
	MaxLabel          = 20 // LINE's limit of a quick reply label (and a sensible button label)
	MaxQuestionText   = 500
	MaxPostbackData   = 300 // LINE's limit of postback data
	maxName           = 100
	maxIntro          = 1000
	maxTextAnswer     = 500
	maxIDLen          = 20
	multiQuickChoices = MaxQuickReply - 1 // one item is 「回答する」
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,20}$`)

// clean trims the texts and fills the defaults (Japanese texts, latest
// answer wins).
func clean(sv Survey) Survey {
	sv.Name, sv.Intro, sv.Thanks = trim(sv.Name), trim(sv.Intro), trim(sv.Thanks)
	if sv.AnswerRule == "" {
		sv.AnswerRule = RuleLatest
	}
	if sv.Thanks == "" {
		sv.Thanks = "ご回答ありがとうございました。"
	}
	if sv.Questions == nil {
		sv.Questions = []Question{}
	}
	for i := range sv.Questions {
		q := &sv.Questions[i]
		q.ID, q.Text, q.Next, q.Attribute = trim(q.ID), trim(q.Text), trim(q.Next), trim(q.Attribute)
		for j := range q.Choices {
			c := &q.Choices[j]
			c.ID, c.Label, c.Next, c.AttrValue = trim(c.ID), trim(c.Label), trim(c.Next), trim(c.AttrValue)
		}
	}
	return sv
}

// validate checks a survey's shape and its attribute mappings against the
// defined attributes. Every wrong field is reported with its path in the
// survey JSON the builder sent (questions.1.choices.0.label), so the builder
// can mark all of them at once.
func validate(ctx context.Context, q querier, sv Survey) error {
	var l fielderr.List
	if sv.Name == "" {
		l.Add("name", fielderr.Required)
	} else if len([]rune(sv.Name)) > maxName {
		l.AddMax("name", fielderr.TooLong, maxName)
	}
	if len([]rune(sv.Intro)) > maxIntro {
		l.AddMax("intro", fielderr.TooLong, maxIntro)
	}
	if len([]rune(sv.Thanks)) > maxIntro {
		l.AddMax("thanks", fielderr.TooLong, maxIntro)
	}
	if sv.AnswerRule != RuleFirst && sv.AnswerRule != RuleLatest {
		l.Add("answerRule", fielderr.Choose)
	}
	if len(sv.Questions) > MaxQuestions {
		l.AddMax("questions", fielderr.TooMany, MaxQuestions)
	}
	qpath := func(i int) string { return "questions." + strconv.Itoa(i) }
	index := map[string]int{}
	for i, qu := range sv.Questions {
		if !idPattern.MatchString(qu.ID) || qu.ID == End {
			l.Add(qpath(i)+".id", fielderr.Format)
			continue
		}
		if _, dup := index[qu.ID]; dup {
			l.Add(qpath(i)+".id", fielderr.Taken)
			continue
		}
		index[qu.ID] = i
	}
	// Skip logic only jumps forward, so every run ends.
	forward := func(from int, to string) bool {
		if to == "" || to == End {
			return true
		}
		j, ok := index[to]
		return ok && j > from
	}
	defs, err := attributeDefs(ctx, q)
	if err != nil {
		return err
	}
	for i, qu := range sv.Questions {
		at := qpath(i)
		if qu.Text == "" {
			l.Add(at+".text", fielderr.Required)
		} else if len([]rune(qu.Text)) > MaxQuestionText {
			l.AddMax(at+".text", fielderr.TooLong, MaxQuestionText)
		}
		if !forward(i, qu.Next) {
			l.Add(at+".next", fielderr.Choose)
		}
		switch qu.Type {
		case TypeSingle, TypeMulti:
			if len(qu.Choices) < 2 {
				l.Add(at+".choices", fielderr.Required)
			} else if len(qu.Choices) > MaxChoices {
				l.AddMax(at+".choices", fielderr.TooMany, MaxChoices)
			}
			ids := map[string]bool{}
			labels := map[string]bool{}
			for j, c := range qu.Choices {
				cat := at + ".choices." + strconv.Itoa(j)
				if !idPattern.MatchString(c.ID) {
					l.Add(cat+".id", fielderr.Format)
				} else if ids[c.ID] {
					l.Add(cat+".id", fielderr.Taken)
				}
				switch {
				case c.Label == "":
					l.Add(cat+".label", fielderr.Required)
				case len([]rune(c.Label)) > MaxLabel:
					l.AddMax(cat+".label", fielderr.TooLong, MaxLabel)
				case labels[c.Label]:
					l.Add(cat+".label", fielderr.Taken)
				}
				ids[c.ID], labels[c.Label] = true, true
				// A multiple choice answer cannot jump: only one path follows.
				if qu.Type == TypeMulti && c.Next != "" || !forward(i, c.Next) {
					l.Add(cat+".next", fielderr.Choose)
				}
			}
		case TypeNumber, TypeDate, TypeText:
			if len(qu.Choices) > 0 {
				l.Add(at+".choices", fielderr.Format)
			}
		default:
			l.Add(at+".type", fielderr.Choose)
		}
		if qu.Attribute == "" {
			continue
		}
		def, ok := defs[qu.Attribute]
		if !ok || compatible(qu, def) != nil {
			l.Add(at+".attribute", fielderr.Choose)
		}
	}
	return l.Err(ErrInvalid)
}

// compatible checks that every answer the question can take is a valid
// value of the attribute.
func compatible(q Question, def customer.AttributeDef) error {
	switch q.Type {
	case TypeSingle:
		for _, c := range q.Choices {
			if _, err := def.CheckAttribute(c.mapped()); err != nil {
				return fmt.Errorf("choice %q is not a valid %s value of attribute %s", c.Label, def.Type, def.Key)
			}
		}
		return nil
	case TypeMulti:
		if def.Type == "text" {
			return nil
		}
	case TypeNumber:
		if def.Type == "number" || def.Type == "text" {
			return nil
		}
	case TypeDate:
		if def.Type == "date" || def.Type == "text" {
			return nil
		}
	case TypeText:
		if def.Type == "text" {
			return nil
		}
	}
	return fmt.Errorf("a %s answer cannot set the %s attribute %s", q.Type, def.Type, def.Key)
}

func (c Choice) mapped() string {
	if c.AttrValue != "" {
		return c.AttrValue
	}
	return c.Label
}

type attrDef struct {
	customer.AttributeDef
	id int64
}

func attributeDefs(ctx context.Context, q querier) (map[string]customer.AttributeDef, error) {
	all, err := attributeDefsByID(ctx, q)
	if err != nil {
		return nil, err
	}
	out := map[string]customer.AttributeDef{}
	for _, d := range all {
		out[d.Key] = d.AttributeDef
	}
	return out, nil
}

func attributeDefsByID(ctx context.Context, q querier) (map[string]attrDef, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, key, label, type, choices FROM attribute_defs`)
	if err != nil {
		return nil, fmt.Errorf("survey: attributes: %w", err)
	}
	defer rows.Close()
	out := map[string]attrDef{}
	for rows.Next() {
		var (
			d       attrDef
			choices string
		)
		if err := rows.Scan(&d.id, &d.Key, &d.Label, &d.Type, &choices); err != nil {
			return nil, fmt.Errorf("survey: attributes: %w", err)
		}
		if err := json.Unmarshal([]byte(choices), &d.Choices); err != nil {
			return nil, fmt.Errorf("survey: attribute %s: %w", d.Key, err)
		}
		out[d.Key] = d
	}
	return out, rows.Err()
}

// attribute returns the attribute def of a key, or ok false.
func attribute(ctx context.Context, q querier, key string) (attrDef, bool, error) {
	var (
		d       attrDef
		choices string
	)
	err := q.QueryRowContext(ctx, `SELECT id, key, label, type, choices FROM attribute_defs WHERE key = ?`, key).Scan(&d.id, &d.Key, &d.Label, &d.Type, &choices)
	if errors.Is(err, sql.ErrNoRows) {
		return attrDef{}, false, nil
	}
	if err != nil {
		return attrDef{}, false, fmt.Errorf("survey: attribute %s: %w", key, err)
	}
	if err := json.Unmarshal([]byte(choices), &d.Choices); err != nil {
		return attrDef{}, false, fmt.Errorf("survey: attribute %s: %w", key, err)
	}
	return d, true, nil
}
