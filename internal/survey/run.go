package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
)

// resumeQuestion is the question_id of a token issued for the resume prompt.
const resumeQuestion = "*resume"

// session is one run of a survey by a LINE user.
type session struct {
	id         int64
	surveyID   int64
	user       string
	state      string
	questionID string
	selected   []string
	retries    int
}

// Hook returns the inbox hook that runs surveys in the chat. It comes after
// linking and before the auto-replies: a survey postback, or the text
// answer to a number, date or free-text question, is consumed (Stop) and
// kept out of the unread count (Internal).
func (s *Service) Hook() inbox.Hook { return hook{s} }

type hook struct{ s *Service }

// HandleEvent implements inbox.Hook. Redeliveries never reach it, so an
// answer is stored once.
func (h hook) HandleEvent(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent) (inbox.HookResult, error) {
	if ev.UserID == "" {
		return inbox.HookResult{}, nil
	}
	switch {
	case ev.Type == "postback" && strings.HasPrefix(ev.PostbackData, startDataPrefix):
		return h.s.startFromCard(ctx, tx, ev)
	case ev.Type == "postback":
		sid, token, act, ok := parseData(ev.PostbackData)
		if !ok {
			return inbox.HookResult{}, nil
		}
		return h.s.postback(ctx, tx, ev, sid, token, act)
	case ev.Type == "message" && ev.Kind == "text":
		return h.s.text(ctx, tx, ev)
	}
	return inbox.HookResult{}, nil
}

// consumed is the result for an event the survey took: the replies, no
// other hook, not unread for staff.
func consumed(replies ...inbox.HookReply) inbox.HookResult {
	return inbox.HookResult{Replies: replies, Stop: true, Internal: true}
}

// The replies name their survey (as its deliveries do), so the thread says
// which survey asked.
func textReply(surveyID int64, text string) inbox.HookReply {
	return inbox.HookReply{Text: text, SentBy: SentBy, Audit: Actor, Source: target(surveyID)}
}

func messageReply(surveyID int64, m line.Message, summary string) inbox.HookReply {
	return inbox.HookReply{Text: summary, SentBy: SentBy, Audit: Actor, Source: target(surveyID), Message: &m}
}

// Start starts (or offers to resume) a survey for a LINE user inside the
// caller's transaction and returns the messages to send, in order: the
// intro and the first question, or the resume prompt, or a note that the
// survey was already answered (answer rule "first"). startedBy names who
// started it (an audit actor, "campaign:12", "automation:3"). Automations
// call it and send the replies' Message (always set) by push with their own
// retry keys. ErrNotOpen if the survey is not open.
func (s *Service) Start(ctx context.Context, tx *sql.Tx, lineUserID string, surveyID int64, startedBy string) ([]inbox.HookReply, error) {
	sv, err := get(ctx, tx, surveyID)
	if err != nil {
		return nil, err
	}
	if sv.Status != StatusOpen {
		return nil, ErrNotOpen
	}
	if len(sv.Questions) == 0 {
		return nil, fmt.Errorf("%w: no questions", ErrInvalid)
	}
	now := s.now().UnixMilli()
	open, err := openSession(ctx, tx, surveyID, lineUserID)
	if err != nil {
		return nil, err
	}
	if open != nil {
		if err := s.activate(ctx, tx, open); err != nil {
			return nil, err
		}
		if open.questionID == sv.Questions[0].ID && len(open.selected) == 0 {
			r, err := s.ask(ctx, tx, sv, open, "")
			return wrapReply(r, err)
		}
		tok, err := s.issue(ctx, tx, open, resumeQuestion)
		if err != nil {
			return nil, err
		}
		m, err := resumeMessage(sv.ID, tok)
		if err != nil {
			return nil, err
		}
		return []inbox.HookReply{messageReply(sv.ID, m, textResume)}, nil
	}
	if sv.AnswerRule == RuleFirst {
		var done bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM survey_sessions WHERE survey_id = ? AND line_user_id = ? AND state = 'completed')`,
			surveyID, lineUserID).Scan(&done); err != nil {
			return nil, fmt.Errorf("survey: start: %w", err)
		}
		if done {
			m, err := line.Text(textAlready)
			if err != nil {
				return nil, err
			}
			return []inbox.HookReply{messageReply(sv.ID, m, textAlready)}, nil
		}
	}
	if err := pauseOthers(ctx, tx, lineUserID, 0, now); err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO survey_sessions (survey_id, line_user_id, state, question_id, started_by, started_at, updated_at)
		VALUES (?, ?, 'active', ?, ?, ?, ?)`, surveyID, lineUserID, sv.Questions[0].ID, startedBy, now, now)
	if err != nil {
		return nil, fmt.Errorf("survey: start: %w", err)
	}
	sess := &session{surveyID: surveyID, user: lineUserID, state: "active", questionID: sv.Questions[0].ID}
	sess.id, _ = res.LastInsertId()
	var out []inbox.HookReply
	if sv.Intro != "" {
		m, err := line.Text(sv.Intro)
		if err != nil {
			return nil, err
		}
		out = append(out, messageReply(sv.ID, m, sv.Intro))
	}
	r, err := s.ask(ctx, tx, sv, sess, "")
	if err != nil {
		return nil, err
	}
	return append(out, r), nil
}

func wrapReply(r inbox.HookReply, err error) ([]inbox.HookReply, error) {
	if err != nil {
		return nil, err
	}
	return []inbox.HookReply{r}, nil
}

// startFromCard starts the survey of a campaign card's start button.
func (s *Service) startFromCard(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent) (inbox.HookResult, error) {
	var surveyID int64
	err := tx.QueryRowContext(ctx, `SELECT survey_id FROM survey_start_tokens WHERE token = ?`, strings.TrimPrefix(ev.PostbackData, startDataPrefix)).Scan(&surveyID)
	if errors.Is(err, sql.ErrNoRows) {
		return consumed(), s.reject(ctx, tx, 0, "forged")
	}
	if err != nil {
		return inbox.HookResult{}, fmt.Errorf("survey: start token: %w", err)
	}
	replies, err := s.Start(ctx, tx, ev.UserID, surveyID, "campaign")
	if errors.Is(err, ErrNotOpen) {
		return consumed(textReply(surveyID, textClosed)), s.reject(ctx, tx, surveyID, "stale")
	}
	if err != nil {
		return inbox.HookResult{}, err
	}
	return consumed(replies...), nil
}

// postback handles a tap on a question's button.
func (s *Service) postback(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent, sid int64, token, act string) (inbox.HookResult, error) {
	var (
		sessID       int64
		user, qid    string
		used         sql.NullInt64
		tokenSurvey  int64
		sessionState string
	)
	err := tx.QueryRowContext(ctx, `SELECT t.session_id, t.line_user_id, t.question_id, t.used_at, r.survey_id, r.state
		FROM survey_tokens t JOIN survey_sessions r ON r.id = t.session_id WHERE t.token = ?`, token).
		Scan(&sessID, &user, &qid, &used, &tokenSurvey, &sessionState)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return consumed(), s.reject(ctx, tx, sid, "forged")
	case err != nil:
		return inbox.HookResult{}, fmt.Errorf("survey: token: %w", err)
	case user != ev.UserID || tokenSurvey != sid:
		return consumed(), s.reject(ctx, tx, sid, "forged")
	case used.Valid:
		return consumed(), s.reject(ctx, tx, sid, "replayed")
	}
	sv, err := get(ctx, tx, sid)
	if err != nil {
		return inbox.HookResult{}, err
	}
	sess, err := loadSession(ctx, tx, sessID)
	if err != nil {
		return inbox.HookResult{}, err
	}
	if sv.Status != StatusOpen || (sess.state != "active" && sess.state != "paused") || (qid != resumeQuestion && qid != sess.questionID) {
		return consumed(), s.reject(ctx, tx, sid, "stale")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE survey_tokens SET used_at = ? WHERE token = ?`, s.now().UnixMilli(), token); err != nil {
		return inbox.HookResult{}, fmt.Errorf("survey: use token: %w", err)
	}
	if err := s.activate(ctx, tx, sess); err != nil {
		return inbox.HookResult{}, err
	}
	if qid == resumeQuestion {
		if act == actRestart {
			sess.questionID, sess.selected = sv.Questions[0].ID, nil
			if err := saveSession(ctx, tx, sess, s.now().UnixMilli()); err != nil {
				return inbox.HookResult{}, err
			}
		} else if act != actResume {
			return consumed(), s.reject(ctx, tx, sid, "forged")
		}
		r, err := s.ask(ctx, tx, sv, sess, "")
		return consumed(r), err
	}
	q, _, ok := sv.question(sess.questionID)
	if !ok {
		return consumed(), s.reject(ctx, tx, sid, "stale")
	}
	switch {
	case q.Type == TypeSingle && strings.HasPrefix(act, actChoose):
		for _, c := range q.Choices {
			if c.ID == act[len(actChoose):] {
				return s.answer(ctx, tx, sv, sess, q, c.Label, c.ID)
			}
		}
	case q.Type == TypeMulti && strings.HasPrefix(act, actToggle):
		id := act[len(actToggle):]
		if _, ok := findChoice(q, id); ok {
			sess.selected = toggle(sess.selected, id)
			if err := saveSession(ctx, tx, sess, s.now().UnixMilli()); err != nil {
				return inbox.HookResult{}, err
			}
			r, err := s.ask(ctx, tx, sv, sess, "")
			return consumed(r), err
		}
	case q.Type == TypeMulti && act == actSubmit:
		if len(sess.selected) == 0 {
			r, err := s.ask(ctx, tx, sv, sess, textPickFirst)
			return consumed(r), err
		}
		on := map[string]bool{}
		for _, id := range sess.selected {
			on[id] = true
		}
		return s.answer(ctx, tx, sv, sess, q, multiValue(q, on), "")
	case q.Type == TypeDate && act == actDate:
		v, _, err := parseAnswer(q, ev.PostbackParams["date"])
		if err != nil {
			r, err := s.ask(ctx, tx, sv, sess, textDateRetry)
			return consumed(r), err
		}
		return s.answer(ctx, tx, sv, sess, q, v, "")
	}
	// A valid token with an action its question does not have was not
	// made by Tsunagu.
	return consumed(), s.reject(ctx, tx, sid, "forged")
}

// text handles a message from a user with a running survey: a stop word
// pauses it; a number, date or free-text question takes it as the answer
// (a single choice question also takes a choice's label typed out).
func (s *Service) text(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent) (inbox.HookResult, error) {
	var id int64
	err := ev.Q(tx).QueryRowContext(ctx, `SELECT id FROM survey_sessions WHERE line_user_id = ? AND state = 'active'`, ev.UserID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return inbox.HookResult{}, nil
	}
	if err != nil {
		return inbox.HookResult{}, fmt.Errorf("survey: running survey: %w", err)
	}
	sess, err := loadSession(ctx, tx, id)
	if err != nil {
		return inbox.HookResult{}, err
	}
	sv, err := get(ctx, tx, sess.surveyID)
	if err != nil {
		return inbox.HookResult{}, err
	}
	if isStopWord(ev.Text) {
		sess.state = "paused"
		if err := saveSession(ctx, tx, sess, s.now().UnixMilli()); err != nil {
			return inbox.HookResult{}, err
		}
		return consumed(textReply(sv.ID, textPaused)), nil
	}
	q, _, ok := sv.question(sess.questionID)
	if !ok || sv.Status != StatusOpen {
		return inbox.HookResult{}, nil
	}
	switch q.Type {
	case TypeNumber, TypeDate, TypeText:
	case TypeSingle:
		if _, ok := findChoice(q, ev.Text); !ok {
			return inbox.HookResult{}, nil // a question for staff, not an answer
		}
	default:
		return inbox.HookResult{}, nil
	}
	v, choice, err := parseAnswer(q, ev.Text)
	if err != nil {
		sess.retries++
		if err := saveSession(ctx, tx, sess, s.now().UnixMilli()); err != nil {
			return inbox.HookResult{}, err
		}
		retry := map[string]string{TypeNumber: textNumberRetry, TypeDate: textDateRetry, TypeText: fmt.Sprintf(textTextRetry, maxTextAnswer)}[q.Type]
		r, err := s.ask(ctx, tx, sv, sess, retry)
		return consumed(r), err
	}
	return s.answer(ctx, tx, sv, sess, q, v, choice)
}

// answer stores a LINE answer and asks the next question, or ends the run.
func (s *Service) answer(ctx context.Context, tx *sql.Tx, sv Survey, sess *session, q Question, value, choice string) (inbox.HookResult, error) {
	if err := s.store(ctx, tx, sv, q, sess.user, 0, value, choice, SourceLine, Actor); err != nil {
		return inbox.HookResult{}, err
	}
	now := s.now().UnixMilli()
	next := sv.next(q, choice)
	sess.selected, sess.retries = nil, 0
	if next == "" {
		sess.state, sess.questionID = "completed", ""
		if err := saveSession(ctx, tx, sess, now); err != nil {
			return inbox.HookResult{}, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE survey_sessions SET completed_at = ? WHERE id = ?`, now, sess.id); err != nil {
			return inbox.HookResult{}, fmt.Errorf("survey: complete: %w", err)
		}
		if err := record(ctx, tx, now, Actor, ActionComplete, sv.ID, map[string]string{"run": itoa(sess.id)}); err != nil {
			return inbox.HookResult{}, err
		}
		return consumed(textReply(sv.ID, sv.Thanks)), nil
	}
	sess.questionID = next
	if err := saveSession(ctx, tx, sess, now); err != nil {
		return inbox.HookResult{}, err
	}
	r, err := s.ask(ctx, tx, sv, sess, "")
	return consumed(r), err
}

// store writes one answer by the survey's answer rule, and its mapped
// attribute when the respondent is a known customer (a LINE user linked
// now; otherwise the link trigger writes it later).
func (s *Service) store(ctx context.Context, tx *sql.Tx, sv Survey, q Question, user string, customerID int64, value, choice, source, actor string) error {
	if user == "" {
		// A linked customer's answers entered by staff are the LINE
		// user's: one answer per question whatever the channel, so the
		// answer rule holds across them.
		err := tx.QueryRowContext(ctx, `SELECT line_user_id FROM customer_line_links WHERE customer_id = ?`, customerID).Scan(&user)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("survey: find LINE user: %w", err)
		}
	}
	byCustomer := sql.NullInt64{Int64: customerID, Valid: customerID != 0}
	var attrID sql.NullInt64
	attrValue := ""
	if q.Attribute != "" {
		def, ok, err := attribute(ctx, tx, q.Attribute)
		if err != nil {
			return err
		}
		if ok {
			raw := value
			switch q.Type {
			case TypeSingle:
				for _, c := range q.Choices {
					if c.Label == value {
						raw = c.mapped()
					}
				}
			case TypeMulti:
				raw = strings.ReplaceAll(value, "\n", "、")
			}
			// A def changed since the survey was saved no longer takes
			// the value: the answer is kept, the attribute is not set.
			if v, err := def.CheckAttribute(raw); err == nil {
				attrID, attrValue = sql.NullInt64{Int64: def.id, Valid: true}, v
			}
		}
	}
	on := "DO UPDATE SET value = excluded.value, source = excluded.source, answered_by = excluded.answered_by, answered_at = excluded.answered_at, attr_id = excluded.attr_id, attr_value = excluded.attr_value"
	if sv.AnswerRule == RuleFirst {
		on = "DO NOTHING"
	}
	now := s.now().UnixMilli()
	var (
		res sql.Result
		err error
	)
	if user != "" {
		res, err = tx.ExecContext(ctx, `INSERT INTO survey_answers (survey_id, question_id, line_user_id, customer_id, value, source, answered_by, answered_at, attr_id, attr_value)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (survey_id, question_id, line_user_id) WHERE line_user_id IS NOT NULL `+on,
			sv.ID, q.ID, user, byCustomer, value, source, actor, now, attrID, attrValue)
	} else {
		res, err = tx.ExecContext(ctx, `INSERT INTO survey_answers (survey_id, question_id, customer_id, value, source, answered_by, answered_at, attr_id, attr_value)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (survey_id, question_id, customer_id) WHERE line_user_id IS NULL `+on,
			sv.ID, q.ID, customerID, value, source, actor, now, attrID, attrValue)
	}
	if err != nil {
		return fmt.Errorf("survey: store answer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 || !attrID.Valid {
		return nil // first answer kept, or nothing to map
	}
	if customerID == 0 {
		err := tx.QueryRowContext(ctx, `SELECT customer_id FROM customer_line_links WHERE line_user_id = ?`, user).Scan(&customerID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("survey: find customer: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO customer_attributes (customer_id, attr_id, value) VALUES (?, ?, ?)
		ON CONFLICT (customer_id, attr_id) DO UPDATE SET value = excluded.value`, customerID, attrID.Int64, attrValue); err != nil {
		return fmt.Errorf("survey: set attribute: %w", err)
	}
	_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: customer.ActionAttributeSet, Target: customer.Target(customerID),
		Detail: map[string]string{"attribute": q.Attribute, "survey": itoa(sv.ID), "question": q.ID}})
	return err
}

// ask issues a token for the session's question and builds the message
// asking it, after prefix (a polite re-ask) if any.
func (s *Service) ask(ctx context.Context, tx *sql.Tx, sv Survey, sess *session, prefix string) (inbox.HookReply, error) {
	q, _, ok := sv.question(sess.questionID)
	if !ok {
		return inbox.HookReply{}, fmt.Errorf("survey %d: no question %q", sv.ID, sess.questionID)
	}
	tok, err := s.issue(ctx, tx, sess, q.ID)
	if err != nil {
		return inbox.HookReply{}, err
	}
	m, summary, err := askMessage(sv, q, tok, sess.selected, prefix)
	if err == nil {
		// The thread shows a tapped button by its label, not its data.
		for data, label := range postbackLabels(m.Bytes()) {
			if err := inbox.RegisterPostbackLabel(ctx, tx, data, label, s.now()); err != nil {
				return inbox.HookReply{}, err
			}
		}
	}
	if err != nil {
		return inbox.HookReply{}, fmt.Errorf("survey %d question %s: %w", sv.ID, q.ID, err)
	}
	return messageReply(sv.ID, m, summary), nil
}

// issue stores a fresh token for the session's question.
func (s *Service) issue(ctx context.Context, tx *sql.Tx, sess *session, questionID string) (string, error) {
	tok := newToken()
	if _, err := tx.ExecContext(ctx, `INSERT INTO survey_tokens (token, session_id, line_user_id, question_id, created_at) VALUES (?, ?, ?, ?, ?)`,
		tok, sess.id, sess.user, questionID, s.now().UnixMilli()); err != nil {
		return "", fmt.Errorf("survey: issue token: %w", err)
	}
	return tok, nil
}

// reject counts an ignored postback.
func (s *Service) reject(ctx context.Context, tx *sql.Tx, surveyID int64, reason string) error {
	var known sql.NullInt64
	if surveyID != 0 {
		if err := tx.QueryRowContext(ctx, `SELECT id FROM surveys WHERE id = ?`, surveyID).Scan(&known); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("survey: reject: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO survey_rejects (survey_id, reason, at) VALUES (?, ?, ?)`, known, reason, s.now().UnixMilli()); err != nil {
		return fmt.Errorf("survey: reject: %w", err)
	}
	return nil
}

// activate makes sess the user's one active run (others are paused).
func (s *Service) activate(ctx context.Context, tx *sql.Tx, sess *session) error {
	now := s.now().UnixMilli()
	if err := pauseOthers(ctx, tx, sess.user, sess.id, now); err != nil {
		return err
	}
	sess.state = "active"
	return saveSession(ctx, tx, sess, now)
}

func pauseOthers(ctx context.Context, tx *sql.Tx, user string, except int64, now int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE survey_sessions SET state = 'paused', updated_at = ? WHERE line_user_id = ? AND state = 'active' AND id <> ?`,
		now, user, except); err != nil {
		return fmt.Errorf("survey: pause runs: %w", err)
	}
	return nil
}

func openSession(ctx context.Context, tx *sql.Tx, surveyID int64, user string) (*session, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM survey_sessions WHERE survey_id = ? AND line_user_id = ? AND state IN ('active','paused')`, surveyID, user).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("survey: find run: %w", err)
	}
	return loadSession(ctx, tx, id)
}

func loadSession(ctx context.Context, tx *sql.Tx, id int64) (*session, error) {
	var (
		sess     session
		selected string
	)
	err := tx.QueryRowContext(ctx, `SELECT id, survey_id, line_user_id, state, question_id, selected, retries FROM survey_sessions WHERE id = ?`, id).
		Scan(&sess.id, &sess.surveyID, &sess.user, &sess.state, &sess.questionID, &selected, &sess.retries)
	if err != nil {
		return nil, fmt.Errorf("survey: run %d: %w", id, err)
	}
	if err := json.Unmarshal([]byte(selected), &sess.selected); err != nil {
		return nil, fmt.Errorf("survey: run %d: %w", id, err)
	}
	return &sess, nil
}

func saveSession(ctx context.Context, tx *sql.Tx, sess *session, now int64) error {
	sel, _ := json.Marshal(append([]string{}, sess.selected...))
	if _, err := tx.ExecContext(ctx, `UPDATE survey_sessions SET state = ?, question_id = ?, selected = ?, retries = ?, updated_at = ? WHERE id = ?`,
		sess.state, sess.questionID, string(sel), sess.retries, now, sess.id); err != nil {
		return fmt.Errorf("survey: save run: %w", err)
	}
	return nil
}

func toggle(list []string, id string) []string {
	for i, v := range list {
		if v == id {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return append(list, id)
}
