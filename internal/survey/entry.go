package survey

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/importer"
	"tsunagu/internal/line"
	"tsunagu/internal/outbox"
)

// EnterAnswers stores answers collected on paper or by phone for a
// customer (answers by question ID; empty values are skipped), each checked
// like a LINE answer, under the survey's answer rule, with their mapped
// attributes, audited (survey.answer). Nothing is stored if one is invalid.
func (s *Service) EnterAnswers(ctx context.Context, actor string, surveyID, customerID int64, answers map[string]string) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		sv, err := get(ctx, tx, surveyID)
		if err != nil {
			return err
		}
		if err := customerExists(ctx, tx, customerID); err != nil {
			return err
		}
		n, err := s.enter(ctx, tx, sv, customerID, answers, SourceStaff, actor)
		if err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionAnswer, Target: customer.Target(customerID),
			Detail: map[string]string{"survey": itoa(surveyID), "answers": fmt.Sprint(n), "source": SourceStaff}})
		return err
	})
}

// enter checks and stores one respondent's answers.
func (s *Service) enter(ctx context.Context, tx *sql.Tx, sv Survey, customerID int64, answers map[string]string, source, actor string) (int, error) {
	type checked struct {
		q             Question
		value, choice string
	}
	var list []checked
	for _, q := range sv.Questions {
		raw, ok := answers[q.ID]
		if !ok || trim(raw) == "" {
			continue
		}
		v, choice, err := parseAnswer(q, raw)
		if err != nil {
			return 0, fmt.Errorf("question %s: %w", q.ID, err)
		}
		list = append(list, checked{q, v, choice})
	}
	for id := range answers {
		if _, _, ok := sv.question(id); !ok {
			return 0, fmt.Errorf("%w: no question %q", ErrAnswer, id)
		}
	}
	if len(list) == 0 {
		return 0, fmt.Errorf("%w: no answers", ErrAnswer)
	}
	for _, c := range list {
		if err := s.store(ctx, tx, sv, c.q, "", customerID, c.value, c.choice, source, actor); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

func customerExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("customer %d: %w", id, ErrNotFound)
	}
	return err
}

// Reasons of rejected import rows beyond the customer import's.
const (
	ReasonCustomer = "surveyCustomer" // no customer has the number
	ReasonAnswer   = "surveyAnswer"   // not a valid answer to the question
	ReasonHeader   = "surveyHeader"   // a column names no question
)

// ImportResult is the outcome of a CSV import of answers.
type ImportResult struct {
	Rows     int              `json:"rows"`
	Imported int              `json:"imported"` // rows stored
	Answers  int              `json:"answers"`
	Issues   []importer.Issue `json:"issues"`
	Encoding string           `json:"encoding"`
}

// ImportAnswers reads answers from CSV: a header row with 顧客番号 (or
// customer_no) and one column per question (its ID, or its ID followed by
// a space and anything, as Export writes, or its exact text), then one row
// per customer. The file is decoded like the customer import (encoding
// detected unless given). Valid rows are stored (source csv) in one
// transaction with one audit entry; each invalid row is reported with a
// masked value and stores nothing.
func (s *Service) ImportAnswers(ctx context.Context, actor string, surveyID int64, r io.Reader, encoding string) (ImportResult, error) {
	sv, err := s.Get(ctx, surveyID)
	if err != nil {
		return ImportResult{}, err
	}
	enc, err := importer.ParseEncoding(encoding)
	if err != nil {
		return ImportResult{}, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if enc == importer.EncodingAuto {
		sample, _ := br.Peek(64 << 10)
		enc = importer.DetectEncoding(sample)
	}
	text, err := importer.NewDecoder(br, enc)
	if err != nil {
		return ImportResult{}, err
	}
	cr := csv.NewReader(text)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	head, err := cr.Read()
	if err != nil {
		return ImportResult{}, fmt.Errorf("%w: no header row: %v", ErrAnswer, err)
	}
	res := ImportResult{Encoding: enc, Issues: []importer.Issue{}}
	noCol := -1
	cols := map[int]string{}
	for i, h := range head {
		h = trim(strings.TrimPrefix(h, "\uFEFF"))
		switch {
		case h == "顧客番号" || strings.EqualFold(h, "customer_no"):
			noCol = i
			continue
		case h == "":
			continue
		}
		if id := questionFor(sv, h); id != "" {
			cols[i] = id
		} else if !map[string]bool{"氏名": true, "LINE連携": true, "回答元": true, "最終回答日時": true}[h] {
			res.Issues = append(res.Issues, importer.Issue{Line: 1, Column: h, Reason: ReasonHeader})
		}
	}
	if noCol < 0 {
		return res, fmt.Errorf("%w: the file has no 顧客番号 column", ErrAnswer)
	}
	seen := map[string]bool{}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				res.Rows++
				res.Issues = append(res.Issues, importer.Issue{Line: perr.StartLine, EndLine: perr.Line, Reason: importer.ReasonColumns})
				continue
			}
			if err != nil {
				return err
			}
			line, _ := cr.FieldPos(0)
			res.Rows++
			if len(rec) != len(head) {
				res.Issues = append(res.Issues, importer.Issue{Line: line, Reason: importer.ReasonColumns})
				continue
			}
			no := customer.NormalizeKey(trim(rec[noCol]))
			if no == "" {
				res.Issues = append(res.Issues, importer.Issue{Line: line, Column: head[noCol], Reason: importer.ReasonRequired})
				continue
			}
			if seen[no] {
				res.Issues = append(res.Issues, importer.Issue{Line: line, Column: head[noCol], Value: importer.Mask(no), Reason: importer.ReasonDuplicate})
				continue
			}
			seen[no] = true
			var cid int64
			err = tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE customer_no = ?`, no).Scan(&cid)
			if errors.Is(err, sql.ErrNoRows) {
				res.Issues = append(res.Issues, importer.Issue{Line: line, Column: head[noCol], Value: importer.Mask(no), Reason: ReasonCustomer})
				continue
			}
			if err != nil {
				return err
			}
			answers := map[string]string{}
			bad := false
			for i, qid := range cols {
				v := rec[i]
				if trim(v) == "" {
					continue
				}
				q, _, _ := sv.question(qid)
				if _, _, err := parseAnswer(q, v); err != nil {
					res.Issues = append(res.Issues, importer.Issue{Line: line, Column: head[i], Value: importer.Mask(v), Reason: ReasonAnswer})
					bad = true
					continue
				}
				answers[qid] = v
			}
			if bad || len(answers) == 0 {
				if !bad {
					res.Issues = append(res.Issues, importer.Issue{Line: line, Reason: importer.ReasonRequired})
				}
				continue
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT survey_row`); err != nil {
				return err
			}
			n, err := s.enter(ctx, tx, sv, cid, answers, SourceCSV, actor)
			if errors.Is(err, ErrAnswer) {
				tx.ExecContext(ctx, `ROLLBACK TO survey_row`)
				tx.ExecContext(ctx, `RELEASE survey_row`)
				res.Issues = append(res.Issues, importer.Issue{Line: line, Reason: ReasonAnswer})
				continue
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `RELEASE survey_row`); err != nil {
				return err
			}
			res.Imported++
			res.Answers += n
		}
		return record(ctx, tx, s.now().UnixMilli(), actor, ActionImport, surveyID, map[string]string{
			"rows": fmt.Sprint(res.Rows), "imported": fmt.Sprint(res.Imported), "issues": fmt.Sprint(len(res.Issues))})
	})
	return res, err
}

// questionFor finds the question a header names.
func questionFor(sv Survey, h string) string {
	for _, q := range sv.Questions {
		if h == q.ID || strings.HasPrefix(h, q.ID+" ") || h == q.Text {
			return q.ID
		}
	}
	return ""
}

// SendTo starts a survey for one LINE user on staff's request (from the
// inbox): the first messages are enqueued in the outbox with their retry
// key, and audited (survey.send), in one transaction, then pushed.
func (s *Service) SendTo(ctx context.Context, ob *outbox.Outbox, actor, lineUserID string, surveyID int64) (outbox.Result, error) {
	if ob == nil {
		return outbox.Result{}, ErrNoSender
	}
	var sendID int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		var follow string
		err := tx.QueryRowContext(ctx, `SELECT follow_state FROM line_users WHERE user_id = ?`, lineUserID).Scan(&follow)
		if errors.Is(err, sql.ErrNoRows) || follow == "unfollowed" {
			return ErrBlocked
		}
		if err != nil {
			return err
		}
		replies, err := s.Start(ctx, tx, lineUserID, surveyID, actor)
		if err != nil {
			return err
		}
		msgs := make([]line.Message, 0, len(replies))
		for _, r := range replies {
			msgs = append(msgs, *r.Message)
		}
		sendID, err = ob.EnqueueTx(ctx, tx, outbox.Request{Source: target(surveyID), To: []string{lineUserID}, Messages: msgs})
		if err != nil {
			return err
		}
		detail := map[string]string{"send": itoa(sendID)}
		var cid int64
		if tx.QueryRowContext(ctx, `SELECT customer_id FROM customer_line_links WHERE line_user_id = ?`, lineUserID).Scan(&cid) == nil {
			detail["customer"] = itoa(cid)
		}
		return record(ctx, tx, s.now().UnixMilli(), actor, ActionSend, surveyID, detail)
	})
	if err != nil {
		return outbox.Result{}, err
	}
	return ob.Send(ctx, sendID)
}

// StartMessage builds the Flex card a campaign sends: the survey's name,
// its intro, and a start button. Its postback carries a random start token
// stored here; whoever taps it starts the survey, with tokens of their own
// issued then. The survey must be open.
func (s *Service) StartMessage(ctx context.Context, surveyID int64) (line.Message, error) {
	sv, err := s.Get(ctx, surveyID)
	if err != nil {
		return line.Message{}, err
	}
	start, err := s.StartData(ctx, surveyID)
	if err != nil {
		return line.Message{}, err
	}
	body := []any{map[string]any{"type": "text", "text": sv.Name, "weight": "bold", "size": "lg", "wrap": true}}
	if sv.Intro != "" {
		body = append(body, map[string]any{"type": "text", "text": sv.Intro, "wrap": true, "size": "sm", "color": "#555555"})
	}
	return encode(map[string]any{
		"type":    "flex",
		"altText": truncate("アンケートのお願い："+sv.Name, 400),
		"contents": map[string]any{
			"type": "bubble",
			"body": map[string]any{"type": "box", "layout": "vertical", "spacing": "md", "contents": body},
			"footer": map[string]any{"type": "box", "layout": "vertical", "contents": []any{map[string]any{
				"type": "button", "style": "primary",
				"action": postback(labelStart, start, "アンケートに回答する")}}},
		},
	})
}

// StartData issues a start token for an open survey and returns the
// postback data of a start button ("svs:<token>"): whoever taps a button
// carrying it starts the survey. A campaign's own Flex card (its "survey"
// template) carries it; StartMessage builds a card around it.
func (s *Service) StartData(ctx context.Context, surveyID int64) (string, error) {
	sv, err := s.Get(ctx, surveyID)
	if err != nil {
		return "", err
	}
	if sv.Status != StatusOpen {
		return "", ErrNotOpen
	}
	tok := newToken()
	if err := s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO survey_start_tokens (token, survey_id, created_at) VALUES (?, ?, ?)`, tok, surveyID, s.now().UnixMilli())
		return err
	}); err != nil {
		return "", fmt.Errorf("survey: start token: %w", err)
	}
	return startDataPrefix + tok, nil
}
