package clicks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
// Per click it reads the token's link and appends one row to link_clicks,
// whose one index (link_id, click_id) both refuses a redelivery and tells
// a first click: the tables are keyed in the order they are written, so a
// batch dirties few pages (see migration 0025).
func (s *Service) Record(ctx context.Context, clicks []wire.Click) (Recorded, error) {
	var r Recorded
	if len(clicks) == 0 {
		return r, nil
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r = Recorded{}
		find, err := tx.PrepareContext(ctx, `SELECT id, source, source_id, ifnull(customer_id, 0), ifnull(line_user_id, ''), url,
			EXISTS (SELECT 1 FROM link_clicks k WHERE k.link_id = t.id) FROM tracked_links t WHERE token = ?`)
		if err != nil {
			return err
		}
		defer find.Close()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO link_clicks (link_id, click_id, clicked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		// The conversation: the LINE user's own, else the customer's linked one.
		line, err := tx.PrepareContext(ctx, `INSERT INTO messages (conversation_id, direction, kind, body, status, source, created_at)
			SELECT c.id, 'in', '`+KindClick+`', ?, 'received', ?, ? FROM conversations c
			WHERE c.line_user_id = coalesce(nullif(?, ''), (SELECT l.line_user_id FROM customer_line_links l WHERE l.customer_id = ?))
			RETURNING conversation_id`)
		if err != nil {
			return err
		}
		defer line.Close()
		tags := clickTags{tx: tx, at: s.now().UnixMilli(), cache: map[string]sendTag{}}
		for _, c := range clicks {
			var (
				link, srcID, customer int64
				src, user, url        string
				clickedBefore         bool
			)
			err := find.QueryRowContext(ctx, c.Token).Scan(&link, &src, &srcID, &customer, &user, &url, &clickedBefore)
			if errors.Is(err, sql.ErrNoRows) {
				r.Unknown++
				continue
			}
			if err != nil {
				return fmt.Errorf("find tracked link: %w", err)
			}
			res, err := ins.ExecContext(ctx, link, c.ID[:], c.At)
			if err != nil {
				return fmt.Errorf("store click: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				r.Duplicates++
				continue
			}
			r.Stored++
			if clickedBefore {
				continue
			}
			if customer != 0 {
				tagged, err := tags.apply(ctx, src, srcID, customer)
				if err != nil {
					return fmt.Errorf("click tag: %w", err)
				}
				if tagged {
					r.Tagged++
				}
			}
			var conv int64
			err = line.QueryRowContext(ctx, url, messageSource(src, srcID), c.At, user, customer).Scan(&conv)
			switch {
			case errors.Is(err, sql.ErrNoRows): // no LINE conversation (unlinked since)
			case err != nil:
				return fmt.Errorf("write click line: %w", err)
			default:
				r.Conversations = append(r.Conversations, conv)
			}
		}
		return nil
	})
	if err != nil {
		return Recorded{}, fmt.Errorf("clicks: record: %w", err)
	}
	return r, nil
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

// apply tags customer with the tag of the send (src, id), if it has one and
// the customer does not carry it yet; it reports whether it tagged. The
// audit entry names the send by its name (clickedIn), as staff know it.
func (t *clickTags) apply(ctx context.Context, src string, id, cust int64) (bool, error) {
	key := messageSource(src, id)
	st, ok := t.cache[key]
	if !ok {
		if q := tagQuery[src]; q != "" {
			var tag sql.NullString
			if err := t.tx.QueryRowContext(ctx, q, id).Scan(&tag, &st.name); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return false, err
			}
			st.tag = strings.TrimSpace(customer.NormalizeText(tag.String))
		}
		t.cache[key] = st
	}
	if st.tag == "" {
		return false, nil
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
