package campaign

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"tsunagu/internal/clicks"
	"tsunagu/internal/inbox"
	"tsunagu/internal/line"
)

// A campaign's messages are in each LINE recipient's conversation
// (inbox.RecordSent), as a copy per recipient whose delivery status is its
// request's. The copies are written after the send, not with the requests:
// at ~25 us per recipient (a conversation looked up or created, a message
// row and its indexes) they would put ~2.5 s of writing on the critical
// path of a 100,000-recipient send, whose target is 1.2x LINE's 1.0 s
// rate-limit floor (Benchmark_campaign_100k). Each request is written into
// the threads once, in the transaction that sets its in_threads mark, so a
// crash or a stop in between leaves the rest for the scheduler's next tick.
// The cost: a reply that arrives within the seconds between a send and its
// copy is listed above the copy.

// threadBatch is how many requests (of up to 500 recipients) one
// transaction writes into the threads: ~50 ms of writing at most, so the
// inbox's webhooks do not wait behind it.
const threadBatch = 4

// threadLater writes campaign id's unwritten copies in the background
// unless this process is already doing so.
func (s *Service) threadLater(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.threading[id] || s.bgCtx.Err() != nil {
		return
	}
	s.threading[id] = true
	s.bg.Go(func() {
		defer func() {
			s.mu.Lock()
			delete(s.threading, id)
			s.mu.Unlock()
		}()
		if err := s.recordThreads(s.bgCtx, id); err != nil && s.bgCtx.Err() == nil {
			s.log.Warn("campaign copies not written into the conversations yet", "campaign", id, "err", err)
		}
	})
}

// threadLeftovers starts writing the copies a crash or a stop left
// unwritten, for campaigns this process is not sending.
func (s *Service) threadLeftovers(ctx context.Context) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT DISTINCT campaign_id FROM campaign_line_requests WHERE in_threads = 0`)
	if err != nil {
		s.log.Warn("campaign copies", "err", err)
		return
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if rows.Scan(&id) == nil {
			ids = append(ids, id)
		}
	}
	rows.Close()
	for _, id := range ids {
		s.mu.Lock()
		busy := s.running[id] != nil
		s.mu.Unlock()
		if !busy {
			s.threadLater(id)
		}
	}
}

// recordThreads writes every unwritten request of campaign id into its
// recipients' threads, threadBatch requests per transaction.
func (s *Service) recordThreads(ctx context.Context, id int64) error {
	for {
		n, err := s.recordThreadBatch(ctx, id)
		if err != nil || n == 0 {
			return err
		}
	}
}

func (s *Service) recordThreadBatch(ctx context.Context, id int64) (int, error) {
	n := 0
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, `
			SELECT r.id, r.recipients, COALESCE(r.sent_at, r.first_tried_at, ?), g.messages
			FROM campaign_line_requests r JOIN campaign_line_groups g ON g.campaign_id = r.campaign_id AND g.group_no = r.group_no
			WHERE r.campaign_id = ? AND r.in_threads = 0 ORDER BY r.id LIMIT ?`, s.now().UnixMilli(), id, threadBatch)
		if err != nil {
			return err
		}
		type req struct {
			id   int64
			to   string
			at   int64
			blob []byte
		}
		var reqs []req
		for rows.Next() {
			var r req
			if err := rows.Scan(&r.id, &r.to, &r.at, &r.blob); err != nil {
				rows.Close()
				return err
			}
			reqs = append(reqs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range reqs {
			msgs, err := line.UnmarshalMessages(r.blob)
			if err != nil {
				return fmt.Errorf("request %d: %w", r.id, err)
			}
			if msgs, err = untrack(ctx, tx, msgs); err != nil {
				return fmt.Errorf("request %d: %w", r.id, err)
			}
			if err := inbox.RecordSent(ctx, tx, inbox.Sent{Source: target(id), To: strings.Split(r.to, "\n"), Messages: msgs,
				CampaignRequest: r.id, At: time.UnixMilli(r.at)}); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_line_requests SET in_threads = 1 WHERE id = ?`, r.id); err != nil {
				return err
			}
		}
		n = len(reqs)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("campaign %d: write copies into the conversations: %w", id, err)
	}
	return n, nil
}

// untrack gives the copy of a text message with tracked links the links
// the campaign wrote (clicks.Untrack): a clerk reads the link, not a token.
func untrack(ctx context.Context, tx *sql.Tx, msgs []line.Message) ([]line.Message, error) {
	for i, m := range msgs {
		if m.Type() != "text" || !bytes.Contains(m.Bytes(), []byte("/c/")) {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(m.Bytes(), &v); err != nil {
			return nil, err
		}
		text, _ := v["text"].(string)
		orig := clicks.Untrack(ctx, tx, text)
		if orig == text {
			continue
		}
		v["text"] = orig
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if msgs[i], err = line.ParseSDKMessage(raw); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}
