package clicks

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"tsunagu/internal/relay/wire"
)

// Recorded is what Record did with a batch of clicks.
type Recorded struct {
	Stored        int     // new clicks attributed and stored
	Duplicates    int     // already stored (a redelivery)
	Unknown       int     // tokens this DB does not know (or erased): nothing stored
	Conversations []int64 // conversations that got a click line
}

// Record attributes clicks to customers through their tokens and stores
// each once, in one transaction. The first click on a token also writes a
// quiet line into the customer's LINE conversation (kind KindClick, source
// the campaign, body the link); later clicks on it are counted only.
func (s *Service) Record(ctx context.Context, clicks []wire.Click) (Recorded, error) {
	var r Recorded
	if len(clicks) == 0 {
		return r, nil
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r = Recorded{}
		find, err := tx.PrepareContext(ctx, `SELECT campaign_id, customer_id, url,
			EXISTS (SELECT 1 FROM link_clicks k WHERE k.token = t.token) FROM tracked_links t WHERE token = ?`)
		if err != nil {
			return err
		}
		defer find.Close()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO link_clicks (click_id, token, campaign_id, customer_id, url, clicked_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (click_id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		line, err := tx.PrepareContext(ctx, `INSERT INTO messages (conversation_id, direction, kind, body, status, source, created_at)
			SELECT c.id, 'in', '`+KindClick+`', ?, 'received', ?, ? FROM customer_line_links l
			JOIN conversations c ON c.line_user_id = l.line_user_id WHERE l.customer_id = ? RETURNING conversation_id`)
		if err != nil {
			return err
		}
		defer line.Close()
		for _, c := range clicks {
			var (
				campaign, customer int64
				url                string
				clickedBefore      bool
			)
			err := find.QueryRowContext(ctx, c.Token).Scan(&campaign, &customer, &url, &clickedBefore)
			if errors.Is(err, sql.ErrNoRows) {
				r.Unknown++
				continue
			}
			if err != nil {
				return fmt.Errorf("find tracked link: %w", err)
			}
			res, err := ins.ExecContext(ctx, c.IDHex(), c.Token, campaign, customer, url, c.At)
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
			var conv int64
			err = line.QueryRowContext(ctx, url, fmt.Sprintf("campaign:%d", campaign), c.At, customer).Scan(&conv)
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
