package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

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
// defined attributes.
func validate(ctx context.Context, q querier, sv Survey) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	if sv.Name == "" || len([]rune(sv.Name)) > maxName {
		return bad("name must be 1 to %d characters", maxName)
	}
	if len([]rune(sv.Intro)) > maxIntro || len([]rune(sv.Thanks)) > maxIntro {
		return bad("intro and thanks must be at most %d characters", maxIntro)
	}
	if sv.AnswerRule != RuleFirst && sv.AnswerRule != RuleLatest {
		return bad("answer rule %q", sv.AnswerRule)
	}
	if len(sv.Questions) > MaxQuestions {
		return bad("more than %d questions", MaxQuestions)
	}
	index := map[string]int{}
	for i, qu := range sv.Questions {
		if !idPattern.MatchString(qu.ID) || qu.ID == End {
			return bad("question %d: ID must be 1 to %d letters, digits, - or _", i+1, maxIDLen)
		}
		if _, dup := index[qu.ID]; dup {
			return bad("question ID %q twice", qu.ID)
		}
		index[qu.ID] = i
	}
	// Skip logic only jumps forward, so every run ends.
	forward := func(from int, to string) error {
		if to == "" || to == End {
			return nil
		}
		j, ok := index[to]
		if !ok {
			return bad("question %d jumps to unknown question %q", from+1, to)
		}
		if j <= from {
			return bad("question %d jumps back to question %d", from+1, j+1)
		}
		return nil
	}
	defs, err := attributeDefs(ctx, q)
	if err != nil {
		return err
	}
	for i, qu := range sv.Questions {
		n := i + 1
		if qu.Text == "" || len([]rune(qu.Text)) > MaxQuestionText {
			return bad("question %d: text must be 1 to %d characters", n, MaxQuestionText)
		}
		if err := forward(i, qu.Next); err != nil {
			return err
		}
		switch qu.Type {
		case TypeSingle, TypeMulti:
			if len(qu.Choices) < 2 || len(qu.Choices) > MaxChoices {
				return bad("question %d: 2 to %d choices", n, MaxChoices)
			}
			ids := map[string]bool{}
			labels := map[string]bool{}
			for _, c := range qu.Choices {
				if !idPattern.MatchString(c.ID) || ids[c.ID] {
					return bad("question %d: choice IDs must be unique letters and digits", n)
				}
				if c.Label == "" || len([]rune(c.Label)) > MaxLabel {
					return bad("question %d: choice labels must be 1 to %d characters", n, MaxLabel)
				}
				if labels[c.Label] {
					return bad("question %d: choice %q twice", n, c.Label)
				}
				ids[c.ID], labels[c.Label] = true, true
				if qu.Type == TypeMulti && c.Next != "" {
					return bad("question %d: a multiple choice answer cannot jump", n)
				}
				if err := forward(i, c.Next); err != nil {
					return err
				}
			}
		case TypeNumber, TypeDate, TypeText:
			if len(qu.Choices) > 0 {
				return bad("question %d: only choice questions have choices", n)
			}
		default:
			return bad("question %d: type %q", n, qu.Type)
		}
		if qu.Attribute == "" {
			continue
		}
		def, ok := defs[qu.Attribute]
		if !ok {
			return bad("question %d: no attribute %q", n, qu.Attribute)
		}
		if err := compatible(qu, def); err != nil {
			return bad("question %d: %v", n, err)
		}
	}
	return nil
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
