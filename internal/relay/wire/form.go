package wire

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/nacl/box"
)

// Web forms (issue 21). The desktop publishes a form's static definition
// (questions and texts, never customer data) to the relay, signed like a
// link upload; the relay serves it with the form page at
// GET /f/TENANT/FORM. The page seals the answers and the customer's LINE ID
// token to the tenant's X25519 key in the phone (an anonymous NaCl box, as
// the relay seals webhooks) and POSTs the box to /f/TENANT/FORM; the relay
// queues it unchanged, so it holds only ciphertext.

// PurposeForm is the statement purpose of a form upload.
const PurposeForm = "form"

// formVersion is the first byte of an opened form submission (webhooks 1,
// clicks 2, visits 3). The phone writes it inside the box.
const formVersion = 4

// Limits of forms on the wire.
const (
	MaxFormUpload  = 256 << 10 // bytes of a signed definition upload
	MaxFormQs      = 100       // questions per form
	MaxFormText    = 5000      // characters of a title, intro, label or consent text
	MaxFormChoices = 50
	// MaxSubmission bounds a sealed submission the relay accepts: 100
	// questions of long text fit, and a larger body is not a real answer.
	MaxSubmission = 64 << 10
)

// Form question types.
const (
	QText     = "text"
	QLongText = "longtext"
	QNumber   = "number"
	QDate     = "date"
	QChoice   = "choice"
	QMulti    = "multi"
	QEmail    = "email"
	QPhone    = "phone"
	QConsent  = "consent"
	QBirth    = "birthdate" // 西暦 or 和暦 typed, sent as YYYY-MM-DD
	QPostal   = "postal"    // postal code with address lookup: {code, pref, city, town, building}
	// QSection is not a question: it starts a section (Label its title,
	// Help its text) that holds the questions after it up to the next.
	QSection = "section"
)

// FormQuestion is one question as the page renders it.
type FormQuestion struct {
	ID       string   `json:"id"` // short, stable within the form: the answer's key
	Type     string   `json:"type"`
	Label    string   `json:"label"`
	Help     string   `json:"help,omitempty"`
	Required bool     `json:"required,omitempty"`
	Choices  []string `json:"choices,omitempty"` // choice, multi
	Min      *float64 `json:"min,omitempty"`     // number
	Max      *float64 `json:"max,omitempty"`     // number
	MaxLen   int      `json:"maxLen,omitempty"`  // text, longtext (0: MaxFormText)
	Consent  string   `json:"consent,omitempty"` // consent: the institution's text
	// Prefill says a link sent to one customer may carry this question's
	// value from the customer record (sealed, prefill.go); never a value.
	Prefill bool `json:"prefill,omitempty"`
	// ShowIf shows the question (or section) only when an earlier choice
	// or multi-choice answer is one of Values; nil: always shown.
	ShowIf *FormCondition `json:"showIf,omitempty"`
}

// FormCondition is a question's (or a section's) display condition.
type FormCondition struct {
	Question string   `json:"question"` // an earlier question's ID
	Values   []string `json:"values"`   // any one of them given shows it
}

// FormDef is a published form: everything the page needs and nothing about
// anyone. BoxKey is the key answers are sealed to; the relay refuses a
// definition whose key is not its tenant's, so a definition can never
// direct answers elsewhere.
type FormDef struct {
	ID        string         `json:"id"` // ValidToken: the URL's FORM
	Version   int64          `json:"version"`
	Title     string         `json:"title"`
	Intro     string         `json:"intro,omitempty"`
	Done      string         `json:"done"` // shown on the page after sending
	Questions []FormQuestion `json:"questions"`
	LIFFID    string         `json:"liffId"`
	BoxKey    []byte         `json:"boxKey"`
}

// FormUpload is the body of POST /v1/forms: a definition to serve, with
// Remove the ID of one to take down, or with Prefill a sealed set of values
// for one link (prefill.go).
type FormUpload struct {
	Form    *FormDef     `json:"form,omitempty"`
	Remove  string       `json:"remove,omitempty"`
	Prefill *FormPrefill `json:"prefill,omitempty"`
}

// ErrFormDef: a definition the relay will not serve.
var ErrFormDef = errors.New("relay: malformed form definition")

// Check reports whether d is a definition the relay may serve (the desktop
// validates properly; this bounds what a compromised desktop key could
// make the relay serve).
func (d *FormDef) Check() error {
	if !ValidToken(d.ID) || d.Version <= 0 || len(d.BoxKey) != KeySize ||
		!short(d.Title) || !short(d.Intro) || !short(d.Done) || len(d.LIFFID) > 64 ||
		len(d.Questions) == 0 || len(d.Questions) > MaxFormQs {
		return ErrFormDef
	}
	seen := map[string]bool{}
	for _, q := range d.Questions {
		if q.ID == "" || len(q.ID) > 32 || seen[q.ID] || !short(q.Label) || !short(q.Help) || !short(q.Consent) ||
			len(q.Choices) > MaxFormChoices || q.MaxLen < 0 || q.MaxLen > MaxFormText {
			return ErrFormDef
		}
		if c := q.ShowIf; c != nil && (!seen[c.Question] || len(c.Values) == 0 || len(c.Values) > MaxFormChoices) {
			return ErrFormDef
		} else if c != nil {
			for _, v := range c.Values {
				if v == "" || !short(v) {
					return ErrFormDef
				}
			}
		}
		seen[q.ID] = true
		switch q.Type {
		case QText, QLongText, QNumber, QDate, QEmail, QPhone, QConsent, QSection, QBirth, QPostal:
		case QChoice, QMulti:
			if len(q.Choices) == 0 {
				return ErrFormDef
			}
		default:
			return fmt.Errorf("%w: question type %q", ErrFormDef, q.Type)
		}
		for _, c := range q.Choices {
			if c == "" || !short(c) {
				return ErrFormDef
			}
		}
	}
	return nil
}

func short(s string) bool { return utf8.ValidString(s) && utf8.RuneCountInString(s) <= MaxFormText }

// FormSubmission is what the phone seals: the answers (question ID → a
// string, a list of strings for multi, an object of strings for postal),
// the LINE ID token that says who
// answered, the form and a random submission ID (a double submit is
// stored once).
type FormSubmission struct {
	FormID   string         `json:"formId"`
	SubmitID string         `json:"submitId"`
	IDToken  string         `json:"idToken"`
	Answers  map[string]any `json:"answers"`
	SentAt   int64          `json:"sentAt"` // the phone's clock, unix ms: shown, never trusted
}

// openForm decodes an opened box whose first byte is formVersion.
func openForm(msg []byte) (*FormSubmission, error) {
	var f FormSubmission
	if err := json.Unmarshal(msg[1:], &f); err != nil || !ValidToken(f.FormID) ||
		len(f.SubmitID) < 16 || len(f.SubmitID) > 64 || f.IDToken == "" {
		return nil, ErrEnvelope
	}
	return &f, nil
}

// SealForm seals a submission as the page does (tests and tools; the page
// has its own implementation, checked against OpenAny).
func SealForm(recipient *[KeySize]byte, f FormSubmission) ([]byte, error) {
	body, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	msg := append([]byte{formVersion}, body...)
	out, err := box.SealAnonymous(nil, msg, recipient, rand.Reader)
	clear(msg)
	if err != nil {
		return nil, fmt.Errorf("relay: seal form: %w", err)
	}
	return out, nil
}

// FormStatement is the extra data a form upload's signature covers.
func FormStatement(body []byte) []byte { return LinksStatement(body) }
