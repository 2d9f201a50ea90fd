package routes

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/inbox"
	"tsunagu/internal/relay/wire"
)

// Reasons stored with a friend (route_friends.reason).
const (
	ReasonVisit     = "visit"     // attributed: the visits before the follow were all of one route
	ReasonNone      = "none"      // no unclaimed visit in the window (search, a shared link, an old QR of LINE's own)
	ReasonAmbiguous = "ambiguous" // visits of two or more routes in the window
	ReasonRefollow  = "refollow"  // unblocked: a friend from before, not a new one
)

// AddFriendURL is LINE's add-friend URL of an official account. It takes
// no parameters: LINE tells nobody where a friend came from.
func AddFriendURL(basicID string) string {
	return addFriendBase + url.PathEscape(basicID)
}

const addFriendBase = "https://line.me/R/ti/p/"

// Publish gives the relay the target of every route it does not know yet
// (new or changed) or has not been told for a month (the relay forgets
// after a year). It returns how many it published.
func (s *Service) Publish(ctx context.Context) (int, error) {
	if s.relay == nil {
		return 0, nil
	}
	_, pub, ok := s.relay(ctx)
	if !ok {
		return 0, nil
	}
	type pending struct {
		id          int64
		token, want string
	}
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT id, token, target, page_url, published_url, coalesce(published_at, 0) FROM routes WHERE archived_at IS NULL`)
	if err != nil {
		return 0, fmt.Errorf("routes: publish: %w", err)
	}
	now := s.now()
	var (
		todo   []pending
		friend string
	)
	for rows.Next() {
		var (
			p               pending
			tgt, page, have string
			at              int64
		)
		if err := rows.Scan(&p.id, &p.token, &tgt, &page, &have, &at); err != nil {
			rows.Close()
			return 0, fmt.Errorf("routes: publish: %w", err)
		}
		// Known to the relay and renewed lately: nothing to do (and no
		// need to ask LINE for the basic ID every scheduled pass).
		fresh := at > now.Add(-republishEvery).UnixMilli()
		if fresh && (tgt == TargetPage && have == page || tgt == TargetFriend && strings.HasPrefix(have, addFriendBase)) {
			continue
		}
		p.want = page
		if tgt == TargetFriend {
			if friend == "" {
				acc, err := s.AccountInfo(ctx)
				if err != nil {
					rows.Close()
					return 0, err
				}
				friend = AddFriendURL(acc.BasicID)
			}
			p.want = friend
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("routes: publish: %w", err)
	}
	if len(todo) == 0 {
		return 0, nil
	}
	links := make([]wire.Link, len(todo))
	for i, p := range todo {
		// Token, target, expiry: nothing else reaches the relay.
		links[i] = wire.Link{Token: p.token, URL: p.want, ExpiresAt: now.Add(publishTTL).UnixMilli()}
	}
	if err := pub.PublishLinks(ctx, links); err != nil {
		return 0, fmt.Errorf("routes: publish: %w", err)
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		for _, p := range todo {
			if _, err := tx.ExecContext(ctx, `UPDATE routes SET published_at = ?, published_url = ? WHERE id = ?`, now.UnixMilli(), p.want, p.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("routes: publish: %w", err)
	}
	return len(todo), nil
}

// publishQuietly publishes after a change; a failure (relay or LINE
// unreachable) leaves the route unpublished, shown as such and retried by
// the scheduled Publish.
func (s *Service) publishQuietly(ctx context.Context) {
	_, _ = s.Publish(ctx)
}

// Target returns where a route token leads (the sandbox's stand-in for the
// relay reads it here): ok false for an unknown or unpublished token.
func (s *Service) Target(ctx context.Context, token string) (string, bool) {
	var u string
	err := s.db.Reader().QueryRowContext(ctx, `SELECT published_url FROM routes WHERE token = ? AND published_at IS NOT NULL`, token).Scan(&u)
	return u, err == nil && u != ""
}

// Recorded is what RecordVisits did.
type Recorded struct {
	Stored, Duplicates, Unknown int
}

// RecordVisits stores visits the relay queued (wire.Click of envelope
// version 3: token, time, random ID), each once, in one transaction. A
// token that is not a route's stores nothing.
func (s *Service) RecordVisits(ctx context.Context, visits []wire.Click) (Recorded, error) {
	var r Recorded
	if len(visits) == 0 {
		return r, nil
	}
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		r = Recorded{}
		for _, v := range visits {
			res, err := tx.ExecContext(ctx, `INSERT INTO route_visits (visit_id, route_id, visited_at)
				SELECT ?, id, ? FROM routes WHERE token = ? ON CONFLICT (visit_id) DO NOTHING`, v.IDHex(), v.At, v.Token)
			if err != nil {
				return fmt.Errorf("store visit: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				r.Stored++
				continue
			}
			var known bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM routes WHERE token = ?)`, v.Token).Scan(&known); err != nil {
				return err
			}
			if known {
				r.Duplicates++
			} else {
				r.Unknown++
			}
		}
		return nil
	})
	if err != nil {
		return Recorded{}, fmt.Errorf("routes: record visits: %w", err)
	}
	return r, nil
}

// Hook returns the inbox hook that attributes new friends. It runs in the
// follow's own transaction, so the friend's route, the claimed visit, the
// tag and the welcome message's outgoing row (with its retry key, written
// by the inbox) commit together or not at all.
func (s *Service) Hook() inbox.Hook { return hook{s} }

type hook struct{ s *Service }

// AuditActor is the actor of a route's welcome message.
const AuditActor = "system:routes"

func (h hook) HandleEvent(ctx context.Context, tx *sql.Tx, ev inbox.HookEvent) (inbox.HookResult, error) {
	if ev.Type != "follow" {
		return inbox.HookResult{}, nil
	}
	route, err := h.s.attribute(ctx, tx, ev.UserID, ev.MessageID, ev.At)
	if err != nil || route == nil {
		return inbox.HookResult{}, err
	}
	if route.welcome == "" {
		return inbox.HookResult{}, nil
	}
	return inbox.HookResult{Replies: []inbox.HookReply{{Text: route.welcome, SentBy: "流入経路「" + route.name + "」",
		Audit: AuditActor, Source: target(route.id)}}}, nil
}

type attributed struct {
	id            int64
	name, welcome string
}

// attribute decides where the friend user, who followed at at, came from,
// once: a friend with a route_friends row is never decided again.
func (s *Service) attribute(ctx context.Context, tx *sql.Tx, user string, msgID int64, at time.Time) (*attributed, error) {
	var haveRoutes, decided bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM routes), EXISTS (SELECT 1 FROM route_friends WHERE line_user_id = ?)`, user).
		Scan(&haveRoutes, &decided); err != nil {
		return nil, fmt.Errorf("routes: attribute: %w", err)
	}
	if !haveRoutes || decided {
		// No routes yet (nothing to learn), or decided at an earlier follow.
		return nil, nil
	}
	ms := at.UnixMilli()
	// An unblock is a friend from before routes were known, not a new one:
	// the inbox stores it as a follow whose body is "unblocked".
	var unblocked bool
	if msgID != 0 {
		if err := tx.QueryRowContext(ctx, `SELECT body = 'unblocked' FROM messages WHERE id = ?`, msgID).Scan(&unblocked); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("routes: attribute: %w", err)
		}
	}
	if unblocked {
		return nil, s.decide(ctx, tx, user, 0, ReasonRefollow, ms)
	}
	// Visits are stamped by the relay's clock, follows by LINE's; both keep
	// network time, and a person needs seconds from the visit to the
	// follow, so a visit after the follow's time cannot have caused it
	// (and may be of the next person, stored with it in one relay batch).
	rows, err := tx.QueryContext(ctx, `SELECT visit_id, route_id FROM route_visits
		WHERE claimed_by IS NULL AND visited_at BETWEEN ? AND ? ORDER BY visited_at, visit_id`,
		ms-s.window.Milliseconds(), ms)
	if err != nil {
		return nil, fmt.Errorf("routes: attribute: %w", err)
	}
	var (
		first   string
		route   int64
		several bool
	)
	for rows.Next() {
		var (
			v string
			r int64
		)
		if err := rows.Scan(&v, &r); err != nil {
			rows.Close()
			return nil, fmt.Errorf("routes: attribute: %w", err)
		}
		if first == "" {
			first, route = v, r
		} else if r != route {
			several = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("routes: attribute: %w", err)
	}
	switch {
	case first == "":
		return nil, s.decide(ctx, tx, user, 0, ReasonNone, ms)
	case several:
		// Visits of two routes: either could be this friend's. Claim
		// nothing (a wrong route is worse than none).
		return nil, s.decide(ctx, tx, user, 0, ReasonAmbiguous, ms)
	}
	// The oldest open visit explains this follow; the others stay for the
	// friends who visited with it.
	if _, err := tx.ExecContext(ctx, `UPDATE route_visits SET claimed_by = ? WHERE visit_id = ?`, user, first); err != nil {
		return nil, fmt.Errorf("routes: claim visit: %w", err)
	}
	if err := s.decide(ctx, tx, user, route, ReasonVisit, ms); err != nil {
		return nil, err
	}
	a := &attributed{id: route}
	if err := tx.QueryRowContext(ctx, `SELECT name, welcome FROM routes WHERE id = ?`, route).Scan(&a.name, &a.welcome); err != nil {
		return nil, fmt.Errorf("routes: attribute: %w", err)
	}
	// Already linked (rare: linked before following): the tag now; the
	// usual case is the trigger route_tag_on_link at the link.
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO customer_tags (customer_id, tag_id)
		SELECT l.customer_id, r.tag_id FROM customer_line_links l, routes r WHERE l.line_user_id = ? AND r.id = ? AND r.tag_id IS NOT NULL`, user, route); err != nil {
		return nil, fmt.Errorf("routes: tag: %w", err)
	}
	return a, nil
}

func (s *Service) decide(ctx context.Context, tx *sql.Tx, user string, route int64, reason string, at int64) error {
	var r any
	if route != 0 {
		r = route
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO route_friends (line_user_id, route_id, reason, followed_at) VALUES (?, ?, ?, ?)`, user, r, reason, at); err != nil {
		return fmt.Errorf("routes: record friend: %w", err)
	}
	return nil
}

// recordExport audits a saved QR code, poster or report.
func (s *Service) recordExport(ctx context.Context, actor string, id int64, what string, rows int) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		t := "routes"
		if id != 0 {
			t = target(id)
		}
		d := map[string]string{"what": what}
		if rows >= 0 {
			d["rows"] = fmt.Sprint(rows)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionExport, Target: t, Detail: d})
		return err
	})
}
