// Package survey runs surveys inside the LINE chat, with no web server: one
// question at a time, choices as quick-reply buttons (a Flex bubble of
// buttons when there are more than fit), dates through the datetime picker,
// numbers and free text as the customer's next message.
//
// Schema: internal/store/migrations/0011_surveys.sql.
//
// Decisions:
//   - Versions: the questions of a survey that has answers (or runs) cannot
//     be edited (ErrHasAnswers); Copy makes a new draft from it. Answers
//     therefore always refer to the questions they answered. Name, intro
//     and thanks texts stay editable.
//   - Postback data is "sv:<survey>:<token>:<action>", where token is 16
//     random bytes issued for one LINE user, run and question when the
//     question is sent (survey_tokens). A token works once. Unknown tokens,
//     another user's token, a used token or a token of a question no longer
//     asked (or a closed survey) store nothing and are counted in
//     survey_rejects (forged, replayed, stale), shown in the results.
//   - Multiple choice: each tap on a choice toggles it and the question is
//     asked again showing the selection (✓), with a 「回答する」 button; LINE
//     has no checkbox, and a re-asked question keeps the quick replies in
//     view. At most 12 choices go in quick replies (13 with 回答する); more
//     become a Flex bubble of buttons.
//   - Stop and resume: 「やめる」「中止」「stop」 while a run is active pause
//     it; the next start of the same survey asks 「続きから回答」 or
//     「最初から」.
//   - Answers are stored per LINE user (source line) or per customer (staff,
//     csv) and resolved through customer_line_links when read, so an
//     unlinked friend's answers belong to the customer once linked; mapped
//     attributes are written at answer time for a linked user and by a
//     trigger on customer_line_links at link time otherwise.
//   - The survey's answer rule: "first" keeps a question's first answer,
//     "latest" replaces it.
//
// Starting a survey: Service.SendTo (staff, from the inbox: enqueued in the
// outbox with its retry key and audited in one transaction, then pushed),
// Service.StartMessage / Service.StartData (a campaign's Flex card; whoever
// taps its button starts the survey), and for an automation, inside its own
// transaction:
//
//	replies, err := svc.Start(ctx, tx, lineUserID, surveyID, "automation:7")
//	// send each replies[i].Message (always set) by push with a stored retry key
//
// Elsewhere: SegmentExtensions (segment conditions on answers, registered
// by the engine), EraseLineUser (an erasure hook), Results and Export,
// EnterAnswers and ImportAnswers (staff and CSV, source staff/csv).
package survey

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/store"
)

// Errors callers may test with errors.Is.
var (
	ErrNotFound   = errors.New("survey: not found")
	ErrInvalid    = errors.New("survey: invalid survey")
	ErrHasAnswers = errors.New("survey: the survey has answers; copy it to change its questions")
	ErrNotOpen    = errors.New("survey: the survey is not open")
	ErrAnswer     = errors.New("survey: invalid answer")
	ErrNoSender   = errors.New("survey: LINE is not available")
	ErrBlocked    = errors.New("survey: the customer cannot be reached on LINE")
	// ErrNotSent: the survey was started but LINE did not take its first
	// message; the outbox keeps it with its retry key.
	ErrNotSent = errors.New("survey: the first question was not sent")
)

// Audited actions.
const (
	ActionSave     = "survey.save"
	ActionStatus   = "survey.status"
	ActionDelete   = "survey.delete"
	ActionSend     = "survey.send"
	ActionAnswer   = "survey.answer"   // an answer entered by staff or imported
	ActionImport   = "survey.import"   // a CSV import, with its counts
	ActionResults  = "survey.results"  // results viewed
	ActionExport   = "survey.export"   // answers exported
	ActionComplete = "survey.complete" // a customer finished a survey in LINE
)

// Actor is the audit actor of what the app does on a customer's answers.
const Actor = "system:survey"

// SentBy is what the conversation shows as the sender of questions.
const SentBy = "アンケート（自動）"

// Question types.
const (
	TypeSingle = "single"
	TypeMulti  = "multi"
	TypeNumber = "number"
	TypeDate   = "date"
	TypeText   = "text"
)

// End is the Next of a choice or question that ends the survey.
const End = "end"

// Answer rules.
const (
	RuleFirst  = "first"
	RuleLatest = "latest"
)

// Statuses.
const (
	StatusDraft  = "draft"
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// Answer sources.
const (
	SourceLine  = "line"
	SourceStaff = "staff"
	SourceCSV   = "csv"
)

// Choice is one answer of a single or multiple choice question.
type Choice struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// Next is where a single choice leads: a question ID, End, or ""
	// (the question's Next).
	Next string `json:"next,omitempty"`
	// AttrValue is the mapped attribute's value for this choice ("": the
	// label), e.g. 「あり」 or "true".
	AttrValue string `json:"attrValue,omitempty"`
}

// Question is one question.
type Question struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Text    string   `json:"text"`
	Choices []Choice `json:"choices,omitempty"`
	// Next: a question ID after this one, End, or "" (the following
	// question; after the last, the end).
	Next string `json:"next,omitempty"`
	// Attribute is the key of the customer attribute the answer sets ("":
	// none).
	Attribute string `json:"attribute,omitempty"`
}

// Survey is a survey with its questions.
type Survey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Intro      string     `json:"intro"`
	Thanks     string     `json:"thanks"`
	AnswerRule string     `json:"answerRule"`
	Status     string     `json:"status"`
	Questions  []Question `json:"questions"`
	CopiedFrom int64      `json:"copiedFrom"`
	CreatedBy  string     `json:"createdBy"`
	UpdatedBy  string     `json:"updatedBy"`
	UpdatedAt  int64      `json:"updatedAt"`
	HasAnswers bool       `json:"hasAnswers"`
}

// Config holds the service's dependencies.
type Config struct {
	DB    *store.DB
	Clock func() time.Time // nil: time.Now
}

// Service manages surveys, runs them in the chat and reports on them.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil {
		return nil, errors.New("survey: DB is required")
	}
	s := &Service{db: cfg.DB, now: cfg.Clock}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Save stores a survey (ID 0: a new draft) after validating it. The
// questions of a survey with answers or runs cannot change (ErrHasAnswers).
func (s *Service) Save(ctx context.Context, actor string, sv Survey) (Survey, error) {
	sv = clean(sv)
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := validate(ctx, tx, sv); err != nil {
			return err
		}
		qs, _ := json.Marshal(sv.Questions)
		if sv.ID == 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO surveys (name, intro, thanks, answer_rule, status, questions, created_by, created_at, updated_by, updated_at)
				VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?)`, sv.Name, sv.Intro, sv.Thanks, sv.AnswerRule, string(qs), actor, now, actor, now)
			if err != nil {
				return fmt.Errorf("survey: save: %w", err)
			}
			sv.ID, _ = res.LastInsertId()
		} else {
			cur, err := get(ctx, tx, sv.ID)
			if err != nil {
				return err
			}
			if cur.HasAnswers {
				old, _ := json.Marshal(cur.Questions)
				if string(old) != string(qs) || cur.AnswerRule != sv.AnswerRule {
					return ErrHasAnswers
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE surveys SET name = ?, intro = ?, thanks = ?, answer_rule = ?, questions = ?, updated_by = ?, updated_at = ? WHERE id = ?`,
				sv.Name, sv.Intro, sv.Thanks, sv.AnswerRule, string(qs), actor, now, sv.ID); err != nil {
				return fmt.Errorf("survey: save: %w", err)
			}
		}
		return record(ctx, tx, now, actor, ActionSave, sv.ID, map[string]string{"questions": strconv.Itoa(len(sv.Questions))})
	})
	if err != nil {
		return Survey{}, err
	}
	return s.Get(ctx, sv.ID)
}

// Copy makes a new draft with the survey's texts and questions (a new
// version of a survey that has answers).
func (s *Service) Copy(ctx context.Context, actor string, id int64) (Survey, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return Survey{}, err
	}
	cur.ID = 0
	cur.Name = truncate(cur.Name+"（コピー）", maxName)
	out, err := s.Save(ctx, actor, cur)
	if err != nil {
		return Survey{}, err
	}
	if err := s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE surveys SET copied_from = ? WHERE id = ?`, id, out.ID)
		return err
	}); err != nil {
		return Survey{}, err
	}
	out.CopiedFrom = id
	return out, nil
}

// SetStatus opens or closes a survey. Closing stops running surveys: their
// buttons become stale.
func (s *Service) SetStatus(ctx context.Context, actor string, id int64, status string) error {
	if status != StatusOpen && status != StatusClosed && status != StatusDraft {
		return fmt.Errorf("%w: status %q", ErrInvalid, status)
	}
	now := s.now().UnixMilli()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		cur, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if status == StatusDraft && cur.HasAnswers {
			return ErrHasAnswers
		}
		if _, err := tx.ExecContext(ctx, `UPDATE surveys SET status = ?, updated_by = ?, updated_at = ? WHERE id = ?`, status, actor, now, id); err != nil {
			return fmt.Errorf("survey: status: %w", err)
		}
		if status == StatusClosed {
			if _, err := tx.ExecContext(ctx, `UPDATE survey_sessions SET state = 'stopped', updated_at = ? WHERE survey_id = ? AND state IN ('active','paused')`, now, id); err != nil {
				return fmt.Errorf("survey: close runs: %w", err)
			}
		}
		return record(ctx, tx, now, actor, ActionStatus, id, map[string]string{"old": cur.Status, "new": status})
	})
}

// Delete removes a survey that has no answers.
func (s *Service) Delete(ctx context.Context, actor string, id int64) error {
	now := s.now().UnixMilli()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		cur, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if cur.HasAnswers {
			return ErrHasAnswers
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM surveys WHERE id = ?`, id); err != nil {
			return fmt.Errorf("survey: delete: %w", err)
		}
		return record(ctx, tx, now, actor, ActionDelete, id, nil)
	})
}

// Get returns a survey.
func (s *Service) Get(ctx context.Context, id int64) (Survey, error) {
	return get(ctx, s.db.Reader(), id)
}

// List returns every survey, newest first.
func (s *Service) List(ctx context.Context) ([]Survey, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+surveyColumns+` FROM surveys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("survey: list: %w", err)
	}
	defer rows.Close()
	out := []Survey{}
	for rows.Next() {
		sv, err := scanSurvey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sv)
	}
	return out, rows.Err()
}

// --- helpers ---

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const surveyColumns = `id, name, intro, thanks, answer_rule, status, questions, coalesce(copied_from, 0), created_by, updated_by, updated_at,
	EXISTS (SELECT 1 FROM survey_answers a WHERE a.survey_id = surveys.id) OR EXISTS (SELECT 1 FROM survey_sessions r WHERE r.survey_id = surveys.id)`

func scanSurvey(r interface{ Scan(...any) error }) (Survey, error) {
	var (
		sv Survey
		qs string
	)
	if err := r.Scan(&sv.ID, &sv.Name, &sv.Intro, &sv.Thanks, &sv.AnswerRule, &sv.Status, &qs, &sv.CopiedFrom, &sv.CreatedBy, &sv.UpdatedBy, &sv.UpdatedAt, &sv.HasAnswers); err != nil {
		return Survey{}, fmt.Errorf("survey: read: %w", err)
	}
	if err := json.Unmarshal([]byte(qs), &sv.Questions); err != nil {
		return Survey{}, fmt.Errorf("survey %d: questions: %w", sv.ID, err)
	}
	return sv, nil
}

func get(ctx context.Context, q querier, id int64) (Survey, error) {
	sv, err := scanSurvey(q.QueryRowContext(ctx, `SELECT `+surveyColumns+` FROM surveys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Survey{}, fmt.Errorf("survey %d: %w", id, ErrNotFound)
	}
	return sv, err
}

// question returns the survey's question with the ID and its index.
func (sv Survey) question(id string) (Question, int, bool) {
	for i, q := range sv.Questions {
		if q.ID == id {
			return q, i, true
		}
	}
	return Question{}, -1, false
}

// next is the question after q given the choice made ("" for none), or ""
// at the end.
func (sv Survey) next(q Question, choice string) string {
	target := q.Next
	for _, c := range q.Choices {
		if c.ID == choice && c.Next != "" {
			target = c.Next
		}
	}
	if target == End {
		return ""
	}
	if target != "" {
		return target
	}
	_, i, _ := sv.question(q.ID)
	if i+1 < len(sv.Questions) {
		return sv.Questions[i+1].ID
	}
	return ""
}

func record(ctx context.Context, tx *sql.Tx, at int64, actor, action string, surveyID int64, detail map[string]string) error {
	_, err := audit.Record(ctx, tx, audit.Entry{At: at, Actor: actor, Action: action, Target: target(surveyID), Detail: detail})
	return err
}

func target(id int64) string { return "survey:" + strconv.FormatInt(id, 10) }

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func trim(s string) string { return strings.TrimSpace(s) }
