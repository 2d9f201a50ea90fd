// Package forms is web forms answered inside LINE (issue 21, first slice).
// A form (title, intro, questions, thank-you texts) is kept here and
// published to the relay as a static definition holding no customer data
// (wire.FormDef, signed with the desktop's auth key); the relay serves the
// page at https://RELAY/f/TENANT/TOKEN as a LIFF app. The customer's phone
// seals the answers and their LINE ID token to this desktop's key; the relay
// queues only that ciphertext. Intake (intake.go) opens nothing itself: the
// relay client hands it the opened submission, it verifies the ID token
// against LINE Login's published keys (expiry judged at the relay's
// receipt time) to learn who answered, refuses forged, expired and replayed tokens, and stores
// the answers once per submission against the LINE user (and the customer,
// once linked), maps answers to customer attributes as surveys do, and
// sends the thank-you message through the outbox (retry key stored first).
//
// Schema: internal/store/migrations/0029_forms.sql. Docs: docs/forms.md.
package forms

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/relay/wire"
	"tsunagu/internal/store"
)

// Audited actions.
const (
	ActionCreate  = "form.create"
	ActionUpdate  = "form.update"
	ActionPublish = "form.publish"
	ActionArchive = "form.archive"
	ActionAnswer  = "form.answer"  // a customer's answers stored (no answer text in the trail)
	ActionReject  = "form.reject"  // a submission refused (forged, expired, replayed ID token, ...)
	ActionResults = "form.results" // answers viewed
)

// Actor is the audit actor of what the app does with customers' answers.
const Actor = "system:forms"

// Statuses.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
	StatusArchived  = "archived"
)

// Question types (the page renders each; wire.Q* are the same strings).
const (
	TypeText     = wire.QText
	TypeLongText = wire.QLongText
	TypeNumber   = wire.QNumber
	TypeDate     = wire.QDate
	TypeChoice   = wire.QChoice
	TypeMulti    = wire.QMulti
	TypeEmail    = wire.QEmail
	TypePhone    = wire.QPhone
	TypeConsent  = wire.QConsent
	TypeBirth    = wire.QBirth   // a birth date, typed in 西暦 or 和暦, stored YYYY-MM-DD
	TypePostal   = wire.QPostal  // an address found from its postal code (postal.go)
	TypeSection  = wire.QSection // a section's title and text, not a question
)

// Limits.
const (
	MaxTitle     = 60
	MaxText      = 2000 // intro, done, thanks, help, consent
	MaxLabel     = 200
	MaxQuestions = wire.MaxFormQs
	MaxChoices   = 30
	MaxChoice    = 60
)

// Errors.
var (
	ErrNotFound   = errors.New("forms: no such form")
	ErrInvalid    = errors.New("forms: the form is not valid")
	ErrHasAnswers = errors.New("forms: the form has answers; its questions cannot change")
	ErrArchived   = errors.New("forms: the form is archived")
	ErrNoRelay    = errors.New("forms: no relay is enrolled, so a form cannot be published")
	ErrNoLIFF     = errors.New("forms: the LIFF app is not set up (LINE Login channel and LIFF ID)")
	ErrNotSent    = errors.New("forms: the relay did not take the form")
)

// Question is one question of a form.
type Question struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Label    string   `json:"label"`
	Help     string   `json:"help,omitempty"`
	Required bool     `json:"required,omitempty"`
	Choices  []string `json:"choices,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	MaxLen   int      `json:"maxLen,omitempty"`
	Consent  string   `json:"consent,omitempty"`
	// Attribute is the key of the customer attribute the answer sets
	// ("": none), as in surveys.
	Attribute string `json:"attribute,omitempty"`
	// Prefill is the customer field a link sent to one customer fills the
	// question with (Field*; "": none). The relay's definition says only
	// that it is filled, never a value (prefill.go).
	Prefill string `json:"prefill,omitempty"`
	// ShowIf shows the question (or a section and all in it) only when an
	// earlier choice or multi-choice question's answer is one of Values
	// (rules.go); nil: always.
	ShowIf *Condition `json:"showIf,omitempty"`
}

// Condition is a question's display condition.
type Condition struct {
	Question string   `json:"question"` // an earlier choice or multi-choice question's ID
	Values   []string `json:"values"`   // any of its choices
}

// Draft is what the designer sends.
type Draft struct {
	Title     string     `json:"title"`
	Intro     string     `json:"intro"`
	Done      string     `json:"done"`   // the page's text after sending ("": a default)
	Thanks    string     `json:"thanks"` // the LINE message after an answer ("": none)
	Questions []Question `json:"questions"`
	// PrefillDays is how long a prefilled link's values last at the relay
	// (1 to MaxPrefillDays; 0: DefaultPrefillDays).
	PrefillDays int `json:"prefillDays"`
}

// Form is one form as the list shows it.
type Form struct {
	ID int64 `json:"id"`
	Draft
	Status string `json:"status"`
	// URL is the page's address on the relay ("" while no relay is
	// enrolled); Published says the relay serves the current version.
	URL       string `json:"url"`
	Published bool   `json:"published"`
	Answers   int    `json:"answers"`
	Rejected  int    `json:"rejected"`
	CreatedAt int64  `json:"createdAt"`
	UpdatedAt int64  `json:"updatedAt"`
}

// DefaultDone is the page's text after sending when the form sets none.
const DefaultDone = "ご回答ありがとうございました。"

// Publisher puts form definitions on the relay (relayclient.Client).
type Publisher interface {
	PublishForm(ctx context.Context, def wire.FormDef) error
	RemoveForm(ctx context.Context, id string) error
	FormURL(id string) string
}

// Config configures a Service.
type Config struct {
	DB *store.DB
	// Relay is the enrolled relay's publisher; ok false: none.
	Relay func(ctx context.Context) (pub Publisher, ok bool)
	// LIFFID is the LIFF app's ID the page initialises ("" not set up);
	// nil: the stored Settings'.
	LIFFID func(ctx context.Context) string
	// Verifier checks ID tokens against LINE Login's keys (intake.go);
	// nil: a line.IDTokenVerifier for the stored Settings' channel at
	// LoginEndpoint (kept while the channel stays, so LINE's keys are
	// cached). Without either, submissions wait (are not acked) until
	// LINE Login is set up.
	Verifier      IDTokenVerifier
	LoginEndpoint string // LINE's API base (line.DefaultEndpoint; the simulator's in sandbox mode)
	// Thanks sends the thank-you message (intake.go); nil: none is sent.
	Thanks ThanksSender
	Clock  func() time.Time // [time.Now]
}

// Service manages forms and takes their answers.
type Service struct {
	db       *store.DB
	relay    func(ctx context.Context) (Publisher, bool)
	liffID   func(ctx context.Context) string
	verifier IDTokenVerifier
	thanks   ThanksSender
	now      func() time.Time

	loginEndpoint string
	verifiers     verifierCache
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("forms: a DB is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Service{db: cfg.DB, relay: cfg.Relay, liffID: cfg.LIFFID, verifier: cfg.Verifier, thanks: cfg.Thanks, now: cfg.Clock,
		loginEndpoint: cfg.LoginEndpoint}, nil
}

var questionID = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// validate names the wrong fields of d ("questions.3.label" for a
// question's).
func validate(d Draft) error {
	var l fielderr.List
	switch {
	case d.Title == "":
		l.Add("title", fielderr.Required)
	case strings.ContainsAny(d.Title, "\r\n"):
		l.Add("title", fielderr.OneLine)
	case utf8.RuneCountInString(d.Title) > MaxTitle:
		l.AddMax("title", fielderr.TooLong, MaxTitle)
	}
	if d.PrefillDays < 1 || d.PrefillDays > MaxPrefillDays {
		l.AddBetween("prefillDays", 1, MaxPrefillDays)
	}
	for name, v := range map[string]string{"intro": d.Intro, "done": d.Done, "thanks": d.Thanks} {
		if utf8.RuneCountInString(v) > MaxText {
			l.AddMax(name, fielderr.TooLong, MaxText)
		}
	}
	switch {
	case len(d.Questions) == 0:
		l.Add("questions", fielderr.Required)
	case len(d.Questions) > MaxQuestions:
		l.AddMax("questions", fielderr.TooMany, MaxQuestions)
	case !hasQuestion(d.Questions):
		l.Add("questions", fielderr.Required) // sections alone ask nothing
	}
	seen := map[string]Question{}
	for i, q := range d.Questions {
		f := "questions." + strconv.Itoa(i) + "."
		if _, dup := seen[q.ID]; !questionID.MatchString(q.ID) || dup {
			l.Add(f+"id", fielderr.Format)
		}
		if c := q.ShowIf; c != nil {
			// Only an earlier choice answer can decide: the page shows the
			// form top to bottom, and a later one would make it circular.
			src, ok := seen[c.Question]
			switch {
			case !ok || (src.Type != TypeChoice && src.Type != TypeMulti):
				l.Add(f+"showIf", fielderr.Choose)
			case len(c.Values) == 0:
				l.Add(f+"showIf", fielderr.Required)
			default:
				for _, v := range c.Values {
					if !contains(src.Choices, v) {
						l.Add(f+"showIf", fielderr.Choose)
						break
					}
				}
			}
		}
		if _, dup := seen[q.ID]; !dup {
			seen[q.ID] = q
		}
		switch {
		case q.Label == "":
			l.Add(f+"label", fielderr.Required)
		case utf8.RuneCountInString(q.Label) > MaxLabel:
			l.AddMax(f+"label", fielderr.TooLong, MaxLabel)
		}
		if utf8.RuneCountInString(q.Help) > MaxText {
			l.AddMax(f+"help", fielderr.TooLong, MaxText)
		}
		if q.Prefill != "" && !prefillFits(q.Prefill, q.Type) {
			l.Add(f+"prefill", fielderr.Choose)
		}
		switch q.Type {
		case TypeText, TypeLongText:
			if q.MaxLen < 0 || q.MaxLen > wire.MaxFormText {
				l.AddBetween(f+"maxLen", 0, wire.MaxFormText)
			}
		case TypeNumber:
			if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
				l.Add(f+"max", fielderr.Range)
			}
		case TypeDate, TypeEmail, TypePhone, TypeSection, TypeBirth, TypePostal:
		case TypeConsent:
			switch {
			case strings.TrimSpace(q.Consent) == "":
				l.Add(f+"consent", fielderr.Required)
			case utf8.RuneCountInString(q.Consent) > MaxText:
				l.AddMax(f+"consent", fielderr.TooLong, MaxText)
			}
		case TypeChoice, TypeMulti:
			switch {
			case len(q.Choices) == 0:
				l.Add(f+"choices", fielderr.Required)
			case len(q.Choices) > MaxChoices:
				l.AddMax(f+"choices", fielderr.TooMany, MaxChoices)
			}
			dup := map[string]bool{}
			for _, c := range q.Choices {
				if c == "" || utf8.RuneCountInString(c) > MaxChoice || dup[c] {
					l.Add(f+"choices", fielderr.Format)
					break
				}
				dup[c] = true
			}
		default:
			l.Add(f+"type", fielderr.Choose)
		}
	}
	return l.Err(ErrInvalid)
}

func clean(d Draft) Draft {
	d.Title = strings.TrimSpace(d.Title)
	d.Intro = strings.TrimSpace(d.Intro)
	d.Done = strings.TrimSpace(d.Done)
	d.Thanks = strings.TrimSpace(d.Thanks)
	if d.PrefillDays == 0 {
		d.PrefillDays = DefaultPrefillDays
	}
	qs := make([]Question, len(d.Questions))
	for i, q := range d.Questions {
		q.ID = strings.TrimSpace(q.ID)
		q.Label = strings.TrimSpace(q.Label)
		q.Help = strings.TrimSpace(q.Help)
		q.Attribute = strings.TrimSpace(q.Attribute)
		if q.ID == "" {
			q.ID = "q" + strconv.Itoa(i+1)
		}
		cs := make([]string, 0, len(q.Choices))
		for _, c := range q.Choices {
			cs = append(cs, strings.TrimSpace(c))
		}
		q.Choices = cs
		if q.Type != TypeChoice && q.Type != TypeMulti {
			q.Choices = nil
		}
		if q.Type != TypeConsent {
			q.Consent = ""
		}
		if q.Type == TypeSection {
			// A section is answered by nobody: nothing required of it,
			// nothing mapped from it.
			q.Required, q.Attribute, q.Min, q.Max, q.MaxLen, q.Prefill = false, "", nil, nil, 0, ""
		}
		if q.ShowIf != nil {
			vs := make([]string, 0, len(q.ShowIf.Values))
			for _, v := range q.ShowIf.Values {
				vs = append(vs, strings.TrimSpace(v))
			}
			q.ShowIf = &Condition{Question: strings.TrimSpace(q.ShowIf.Question), Values: vs}
		}
		qs[i] = q
	}
	d.Questions = qs
	return d
}

func target(id int64) string { return "form:" + strconv.FormatInt(id, 10) }

// detail is what the audit trail keeps of a form: its shape, not its texts.
func detail(d Draft) map[string]string {
	return map[string]string{"title": d.Title, "questions": strconv.Itoa(len(d.Questions)),
		"thanksChars": strconv.Itoa(utf8.RuneCountInString(d.Thanks))}
}

func newToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("forms: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Create adds a draft form; audited in the same transaction.
func (s *Service) Create(ctx context.Context, actor string, d Draft) (Form, error) {
	d = clean(d)
	if err := validate(d); err != nil {
		return Form{}, fmt.Errorf("forms: create: %w", err)
	}
	token, err := newToken()
	if err != nil {
		return Form{}, err
	}
	qs, _ := json.Marshal(d.Questions)
	var id int64
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		if err := tx.QueryRowContext(ctx, `INSERT INTO forms (title, intro, questions, done, thanks, prefill_days, token, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.Title, d.Intro, string(qs), d.Done, d.Thanks, d.PrefillDays, token, now, now).Scan(&id); err != nil {
			return fmt.Errorf("store form: %w", err)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionCreate, Target: target(id), Detail: detail(d)})
		return err
	})
	if err != nil {
		return Form{}, fmt.Errorf("forms: create: %w", err)
	}
	return s.Get(ctx, id)
}

// Update changes a form; audited. Once it has answers its questions cannot
// change (answers always refer to the questions they answered); its texts
// can. A published form's page shows the change after Publish.
func (s *Service) Update(ctx context.Context, actor string, id int64, d Draft) (Form, error) {
	d = clean(d)
	if err := validate(d); err != nil {
		return Form{}, fmt.Errorf("forms: update %d: %w", id, err)
	}
	qs, _ := json.Marshal(d.Questions)
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var (
			status, old string
			answers     int
		)
		err := tx.QueryRowContext(ctx, `SELECT status, questions, (SELECT count(*) FROM form_answers a WHERE a.form_id = f.id) FROM forms f WHERE id = ?`, id).
			Scan(&status, &old, &answers)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrNotFound
		case err != nil:
			return err
		case status == StatusArchived:
			return ErrArchived
		case answers > 0 && old != string(qs):
			return ErrHasAnswers
		}
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE forms SET title = ?, intro = ?, questions = ?, done = ?, thanks = ?, prefill_days = ?, updated_at = ?, published_at = NULL WHERE id = ?`,
			d.Title, d.Intro, string(qs), d.Done, d.Thanks, d.PrefillDays, now, id); err != nil {
			return fmt.Errorf("store form: %w", err)
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionUpdate, Target: target(id), Detail: detail(d)})
		return err
	})
	if err != nil {
		return Form{}, fmt.Errorf("forms: update %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// Publish puts the form's current version on the relay and marks it
// published; audited once the relay took it.
func (s *Service) Publish(ctx context.Context, actor string, id int64) (Form, error) {
	f, token, err := s.get(ctx, id)
	if err != nil {
		return Form{}, err
	}
	if f.Status == StatusArchived {
		return Form{}, fmt.Errorf("forms: publish %d: %w", id, ErrArchived)
	}
	pub, ok := s.publisher(ctx)
	if !ok {
		return Form{}, fmt.Errorf("forms: publish %d: %w", id, ErrNoRelay)
	}
	liff := s.liff(ctx)
	if liff == "" {
		return Form{}, fmt.Errorf("forms: publish %d: %w", id, ErrNoLIFF)
	}
	version := s.now().UnixMilli()
	if err := pub.PublishForm(ctx, Definition(f, token, liff, version)); err != nil {
		return Form{}, fmt.Errorf("forms: publish %d: %w: %w", id, ErrNotSent, err)
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE forms SET status = ?, version = ?, published_at = ? WHERE id = ?`, StatusPublished, version, version, id); err != nil {
			return fmt.Errorf("mark published: %w", err)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: version, Actor: actor, Action: ActionPublish, Target: target(id),
			Detail: map[string]string{"title": f.Title, "version": strconv.FormatInt(version, 10)}})
		return err
	})
	if err != nil {
		return Form{}, fmt.Errorf("forms: publish %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// Definition is what the relay serves for a form: its questions and texts,
// nothing about anyone. (BoxKey is set by the relay client.)
func Definition(f Form, token, liffID string, version int64) wire.FormDef {
	qs := make([]wire.FormQuestion, len(f.Questions))
	for i, q := range f.Questions {
		qs[i] = wire.FormQuestion{ID: q.ID, Type: q.Type, Label: q.Label, Help: q.Help, Required: q.Required,
			Choices: q.Choices, Min: q.Min, Max: q.Max, MaxLen: q.MaxLen, Consent: q.Consent, Prefill: q.Prefill != ""}
		if q.ShowIf != nil {
			qs[i].ShowIf = &wire.FormCondition{Question: q.ShowIf.Question, Values: q.ShowIf.Values}
		}
	}
	done := f.Done
	if done == "" {
		done = DefaultDone
	}
	return wire.FormDef{ID: token, Version: version, Title: f.Title, Intro: f.Intro, Done: done, Questions: qs, LIFFID: liffID}
}

// Archive takes a form off the relay (its page answers 404) and off the
// list; audited. Its answers stay.
func (s *Service) Archive(ctx context.Context, actor string, id int64) error {
	f, token, err := s.get(ctx, id)
	if err != nil {
		return err
	}
	if f.Status == StatusPublished {
		pub, ok := s.publisher(ctx)
		if !ok {
			return fmt.Errorf("forms: archive %d: %w", id, ErrNoRelay)
		}
		if err := pub.RemoveForm(ctx, token); err != nil {
			return fmt.Errorf("forms: archive %d: %w: %w", id, ErrNotSent, err)
		}
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		now := s.now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `UPDATE forms SET status = ?, published_at = NULL, updated_at = ? WHERE id = ?`, StatusArchived, now, id); err != nil {
			return err
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionArchive, Target: target(id),
			Detail: map[string]string{"title": f.Title}})
		return err
	})
	if err != nil {
		return fmt.Errorf("forms: archive %d: %w", id, err)
	}
	return nil
}

func (s *Service) publisher(ctx context.Context) (Publisher, bool) {
	if s.relay == nil {
		return nil, false
	}
	return s.relay(ctx)
}

const selectForm = `SELECT f.id, f.title, f.intro, f.questions, f.done, f.thanks, f.prefill_days, f.status, f.token,
	f.published_at IS NOT NULL, f.created_at, f.updated_at,
	(SELECT count(*) FROM form_answers a WHERE a.form_id = f.id),
	(SELECT count(*) FROM form_rejects r WHERE r.form_id = f.id)
	FROM forms f`

func scanForm(row interface{ Scan(...any) error }) (Form, string, error) {
	var (
		f     Form
		qs    string
		token string
	)
	if err := row.Scan(&f.ID, &f.Title, &f.Intro, &qs, &f.Done, &f.Thanks, &f.PrefillDays, &f.Status, &token,
		&f.Published, &f.CreatedAt, &f.UpdatedAt, &f.Answers, &f.Rejected); err != nil {
		return Form{}, "", err
	}
	if err := json.Unmarshal([]byte(qs), &f.Questions); err != nil {
		return Form{}, "", fmt.Errorf("form %d questions: %w", f.ID, err)
	}
	return f, token, nil
}

func (s *Service) get(ctx context.Context, id int64) (Form, string, error) {
	f, token, err := scanForm(s.db.Reader().QueryRowContext(ctx, selectForm+` WHERE f.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Form{}, "", fmt.Errorf("forms: %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Form{}, "", fmt.Errorf("forms: %d: %w", id, err)
	}
	if pub, ok := s.publisher(ctx); ok {
		f.URL = pub.FormURL(token)
	}
	return f, token, nil
}

// Get returns one form.
func (s *Service) Get(ctx context.Context, id int64) (Form, error) {
	f, _, err := s.get(ctx, id)
	return f, err
}

// List returns the forms, newest first; archived ones only if asked.
func (s *Service) List(ctx context.Context, archived bool) ([]Form, error) {
	q := selectForm + ` WHERE f.status <> 'archived' ORDER BY f.id DESC`
	if archived {
		q = selectForm + ` ORDER BY f.status = 'archived', f.id DESC`
	}
	rows, err := s.db.Reader().QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("forms: list: %w", err)
	}
	defer rows.Close()
	pub, ok := s.publisher(ctx)
	out := []Form{}
	for rows.Next() {
		f, token, err := scanForm(rows)
		if err != nil {
			return nil, fmt.Errorf("forms: list: %w", err)
		}
		if ok {
			f.URL = pub.FormURL(token)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
