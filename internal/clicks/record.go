package clicks

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tsunagu/internal/audit"
	"tsunagu/internal/customer"
	"tsunagu/internal/relay/wire"
)

// Recorded is what Record did with a batch of clicks.
type Recorded struct {
	Stored        int     // new clicks attributed and stored
	Duplicates    int     // already stored (a redelivery)
	Unknown       int     // tokens this DB does not know (or erased): nothing stored
	Conversations []int64 // conversations that got a click line
	Tagged        int     // customers who got their send's click tag
}

// Record attributes clicks to their recipients through their tokens and
// stores each once, in one transaction. The first click on a token also
// writes a quiet line into the recipient's LINE conversation (kind
// KindClick, source the send the link was in, body the link); later clicks
// on it are counted only. If the send's content names a click tag
// (campaign.Content.ClickTag), a first click also tags the customer, once,
// audited as a tag added by the system, in the same transaction.
//
// A batch is a few set statements over the clicks as one JSON parameter,
// not statements per click: link_clicks' integer key grows in arrival
// order, so the batch's new clicks are those above the largest key before
// it. The tables are keyed in the order they are written, so a batch
// dirties few pages (see migration 0025).
func (s *Service) Record(ctx context.Context, clicks []wire.Click) (Recorded, error) {
	var r Recorded
	if len(clicks) == 0 {
		return r, nil
	}
	type row struct {
		T string `json:"t"` // token
		I string `json:"i"` // click ID, hex
		A int64  `json:"a"` // clicked at, unix ms
	}
	rows := make([]row, len(clicks))
	for i, c := range clicks {
		rows[i] = row{T: c.Token, I: c.IDHex(), A: c.At}
	}
	batch, err := json.Marshal(rows)
	if err != nil {
		return r, fmt.Errorf("clicks: record: %w", err)
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		r = Recorded{}
		var (
			before  int64
			known   int
			sources sql.NullString // the batch's sends, "campaign:12,automation:5"
		)
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT ifnull(max(id), 0) FROM link_clicks), count(*), group_concat(DISTINCT t.source || ':' || t.source_id)
			FROM json_each(?) j JOIN tracked_links t ON t.token = j.value->>'t'`, string(batch)).Scan(&before, &known, &sources); err != nil {
			return fmt.Errorf("find tracked links: %w", err)
		}
		// In the batch's order, so that its first click on a link is the
		// one with the lowest key. A click ID already stored is skipped.
		res, err := tx.ExecContext(ctx, `INSERT INTO link_clicks (link_id, click_id, clicked_at)
			SELECT t.id, unhex(j.value->>'i'), j.value->>'a' FROM json_each(?) j JOIN tracked_links t ON t.token = j.value->>'t'
			WHERE true ORDER BY j.key ON CONFLICT DO NOTHING`, string(batch))
		if err != nil {
			return fmt.Errorf("store clicks: %w", err)
		}
		stored, _ := res.RowsAffected()
		r.Stored, r.Duplicates, r.Unknown = int(stored), known-int(stored), len(clicks)-known
		if stored == 0 {
			return nil
		}
		// A first click on a link writes its line in the conversation: the
		// LINE user's own, else the customer's linked one.
		lines, err := tx.QueryContext(ctx, `INSERT INTO messages (conversation_id, direction, kind, body, status, source, created_at)
			SELECT c.id, 'in', '`+KindClick+`', t.url, 'received', t.source || ':' || t.source_id, k.clicked_at
			FROM link_clicks k JOIN tracked_links t ON t.id = k.link_id
			JOIN conversations c ON c.line_user_id = coalesce(t.line_user_id, (SELECT l.line_user_id FROM customer_line_links l WHERE l.customer_id = t.customer_id))
			WHERE k.id > ? AND NOT EXISTS (SELECT 1 FROM link_clicks p WHERE p.link_id = k.link_id AND p.id < k.id)
			ORDER BY k.id RETURNING conversation_id`, before)
		if err != nil {
			return fmt.Errorf("write click lines: %w", err)
		}
		for lines.Next() {
			var conv int64
			if err := lines.Scan(&conv); err != nil {
				lines.Close()
				return fmt.Errorf("write click lines: %w", err)
			}
			r.Conversations = append(r.Conversations, conv)
		}
		if err := errors.Join(lines.Err(), lines.Close()); err != nil {
			return fmt.Errorf("write click lines: %w", err)
		}
		tags := clickTags{tx: tx, at: s.now().UnixMilli(), cache: map[string]sendTag{}}
		for _, src := range strings.Split(sources.String, ",") {
			kind, id, _ := strings.Cut(src, ":")
			n, _ := strconv.ParseInt(id, 10, 64)
			tag, err := tags.of(ctx, kind, n)
			if err != nil {
				return fmt.Errorf("click tag: %w", err)
			}
			if tag.tag != "" {
				// Only when a send of the batch has a tag: who to tag.
				return s.tagClickers(ctx, &tags, before, &r)
			}
		}
		return nil
	})
	if err != nil {
		return Recorded{}, fmt.Errorf("clicks: record: %w", err)
	}
	return r, nil
}

// tagClickers gives the customers whose first click on a link is among the
// clicks stored above key before their send's click tag, if it has one.
func (s *Service) tagClickers(ctx context.Context, tags *clickTags, before int64, r *Recorded) error {
	type first struct {
		src         string
		srcID, cust int64
	}
	rows, err := tags.tx.QueryContext(ctx, `SELECT DISTINCT t.source, t.source_id, t.customer_id
		FROM link_clicks k JOIN tracked_links t ON t.id = k.link_id
		WHERE k.id > ? AND t.customer_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM link_clicks p WHERE p.link_id = k.link_id AND p.id < k.id)`, before)
	if err != nil {
		return fmt.Errorf("click tags: %w", err)
	}
	var firsts []first
	for rows.Next() {
		var f first
		if err := rows.Scan(&f.src, &f.srcID, &f.cust); err != nil {
			rows.Close()
			return fmt.Errorf("click tags: %w", err)
		}
		firsts = append(firsts, f)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("click tags: %w", err)
	}
	for _, f := range firsts {
		tagged, err := tags.apply(ctx, f.src, f.srcID, f.cust)
		if err != nil {
			return fmt.Errorf("click tag: %w", err)
		}
		if tagged {
			r.Tagged++
		}
	}
	return nil
}

// messageSource is the messages.source of a click line, as the inbox names
// the feature behind a message: "campaign:12", "automation:5", "reply:88".
func messageSource(kind string, id int64) string { return fmt.Sprintf("%s:%d", kind, id) }

// clickTags applies the click tags of a batch's sends, reading each send's
// tag once.
type clickTags struct {
	tx    *sql.Tx
	at    int64
	cache map[string]sendTag // by messageSource
}

type sendTag struct{ tag, name string }

// tagQuery reads a source's click tag from its content, and its name.
var tagQuery = map[string]string{
	SourceCampaign:   `SELECT json_extract(content, '$.clickTag'), name FROM campaigns WHERE id = ?`,
	SourceAutomation: `SELECT json_extract(spec, '$.content.clickTag'), name FROM automations WHERE id = ?`,
}

// of returns the send's click tag and name (read once per batch).
func (t *clickTags) of(ctx context.Context, src string, id int64) (sendTag, error) {
	key := messageSource(src, id)
	st, ok := t.cache[key]
	if ok {
		return st, nil
	}
	if q := tagQuery[src]; q != "" {
		var tag sql.NullString
		if err := t.tx.QueryRowContext(ctx, q, id).Scan(&tag, &st.name); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return sendTag{}, err
		}
		st.tag = strings.TrimSpace(customer.NormalizeText(tag.String))
	}
	t.cache[key] = st
	return st, nil
}

// apply tags customer with the tag of the send (src, id), if it has one and
// the customer does not carry it yet; it reports whether it tagged. The
// audit entry names the send by its name (clickedIn), as staff know it.
func (t *clickTags) apply(ctx context.Context, src string, id, cust int64) (bool, error) {
	st, err := t.of(ctx, src, id)
	if err != nil || st.tag == "" {
		return false, err
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, st.tag); err != nil {
		return false, err
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO customer_tags (customer_id, tag_id) SELECT ?, id FROM tags WHERE name = ? ON CONFLICT DO NOTHING`, cust, st.tag)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	var no string
	if err := t.tx.QueryRowContext(ctx, `SELECT customer_no FROM customers WHERE id = ?`, cust).Scan(&no); err != nil {
		return false, err
	}
	_, err = audit.Record(ctx, t.tx, audit.Entry{At: t.at, Actor: audit.SystemActor, Action: customer.ActionTagAdd, Target: customer.Target(cust),
		Detail: map[string]string{"tag": st.tag, "customerNo": no, "clickedIn": st.name}})
	return err == nil, err
}
