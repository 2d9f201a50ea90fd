package richmenu

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
)

// Run is one sync as recorded.
type Run struct {
	ID         int64  `json:"id"`
	Actor      string `json:"actor"`
	State      string `json:"state"` // running, done, failed; "noop" for a sync with nothing to do (not stored)
	Planned    int    `json:"planned"`
	Applied    int    `json:"applied"`
	Calls      int    `json:"calls"`
	Resumed    bool   `json:"resumed"`
	Error      string `json:"error,omitempty"`
	StartedAt  int64  `json:"startedAt"`
	FinishedAt int64  `json:"finishedAt"`

	stale bool // plan rows were dropped: the next sync must run
}

// Sync moves every following friend to the menu the assignments give them:
// it computes the targets, stores the differences as a plan (or resumes
// the plan an interrupted sync left), applies it in bulk calls grouped by
// menu, sets the default menu, and deletes retired LINE menus nobody has.
// force records a run even when nothing changed (staff's "sync now").
func (s *Service) Sync(ctx context.Context, actor string, force bool) (Run, error) {
	if s.line == nil {
		return Run{}, ErrNoLine
	}
	if !s.syncs.TryLock() {
		return Run{}, ErrBusy
	}
	defer s.syncs.Unlock()

	// With nothing assigned and nothing set on LINE there is nothing to
	// keep in step: no call is made at all.
	var used int
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT (SELECT count(*) FROM richmenu_rules) +
		(SELECT count(*) FROM richmenu_settings WHERE default_design_id IS NOT NULL OR default_line_menu_id <> '') +
		(SELECT count(*) FROM richmenu_retired) + (SELECT count(*) FROM richmenu_users WHERE line_menu_id <> '') +
		(SELECT count(*) FROM richmenu_sync_plan WHERE done = 0)`).Scan(&used); err != nil {
		return Run{}, fmt.Errorf("richmenu: sync: %w", err)
	}
	if used == 0 && !force {
		return Run{State: "noop"}, nil
	}
	// The simulator of sandbox mode starts empty: put back what it lost.
	if _, err := s.publishLocked(ctx, actor, true); err != nil {
		return Run{}, err
	}
	run, err := s.plan(ctx, actor)
	if err != nil {
		return Run{}, err
	}
	defaultChanged, err := s.defaultChanged(ctx)
	if err != nil {
		return Run{}, err
	}
	if run.Planned == 0 && !force && !defaultChanged {
		if err := s.db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE richmenu_settings SET dirty = 0 WHERE id = 1`)
			return err
		}); err != nil {
			return Run{}, fmt.Errorf("richmenu: clear dirty flag: %w", err)
		}
		return Run{State: "noop"}, s.cleanRetired(ctx)
	}
	if run.ID, err = s.startRun(ctx, run); err != nil {
		return Run{}, err
	}
	applyErr := s.apply(ctx, &run)
	if applyErr == nil {
		applyErr = s.applyDefault(ctx)
	}
	if applyErr == nil {
		applyErr = s.cleanRetired(ctx)
	}
	run.State, run.FinishedAt = "done", s.now().UnixMilli()
	if applyErr != nil {
		run.State, run.Error = "failed", applyErr.Error()
	}
	if err := s.finishRun(ctx, run); err != nil {
		return run, errors.Join(applyErr, err)
	}
	return run, applyErr
}

// plan resumes an unfinished plan, or computes and stores a new one.
func (s *Service) plan(ctx context.Context, actor string) (Run, error) {
	run := Run{Actor: actor, State: "running", StartedAt: s.now().UnixMilli()}
	var pending int
	if err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM richmenu_sync_plan WHERE done = 0`).Scan(&pending); err != nil {
		return run, fmt.Errorf("richmenu: read plan: %w", err)
	}
	if pending > 0 {
		run.Planned, run.Resumed = pending, true
		return run, nil
	}
	targets, err := s.Targets(ctx)
	if err != nil {
		return run, err
	}
	current, err := s.current(ctx)
	if err != nil {
		return run, err
	}
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM richmenu_sync_plan`); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO richmenu_sync_plan (line_user_id, line_menu_id) VALUES (?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for user, menu := range targets {
			if current[user] == menu {
				continue
			}
			if _, err := stmt.ExecContext(ctx, user, menu); err != nil {
				return err
			}
			run.Planned++
		}
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("richmenu: store plan: %w", err)
	}
	return run, nil
}

// Targets returns every following friend's LINE menu ID by the published
// designs ("" for the default menu). Rules whose design is not on LINE yet
// are skipped.
func (s *Service) Targets(ctx context.Context) (map[string]string, error) {
	a, err := s.Assignments(ctx)
	if err != nil {
		return nil, err
	}
	menus := map[int64]string{}
	designs, err := s.Designs(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range designs {
		menus[d.ID] = d.LineMenuID
	}
	followers, err := s.userSet(ctx, `SELECT user_id FROM line_users WHERE follow_state = 'following'`)
	if err != nil {
		return nil, err
	}
	targets := make(map[string]string, len(followers))
	undecided := followers
	for _, r := range a.Rules {
		menu := menus[r.DesignID]
		if menu == "" || len(undecided) == 0 {
			continue
		}
		members, err := s.members(ctx, r)
		if err != nil {
			return nil, err
		}
		next := map[string]bool{}
		for u := range undecided {
			if members[u] == (r.Match != MatchUnlinked) {
				targets[u] = menu
			} else {
				next[u] = true
			}
		}
		undecided = next
	}
	for u := range undecided {
		targets[u] = "" // the default menu shows
	}
	return targets, nil
}

// members returns the LINE users a rule matches; for MatchUnlinked, the
// linked ones (the caller inverts).
func (s *Service) members(ctx context.Context, r Rule) (map[string]bool, error) {
	switch r.Match {
	case MatchLinked, MatchUnlinked:
		return s.userSet(ctx, `SELECT line_user_id FROM customer_line_links`)
	case MatchSegment:
		seg, err := s.segs.Get(ctx, r.SegmentID)
		if err != nil {
			return nil, fmt.Errorf("richmenu: segment %d: %w", r.SegmentID, err)
		}
		q, err := s.segs.Compiler().Compile(seg.Rules)
		if err != nil {
			return nil, fmt.Errorf("richmenu: segment %d: %w", r.SegmentID, err)
		}
		return s.userSet(ctx, `SELECT l.line_user_id FROM customer_line_links l JOIN customers c ON c.id = l.customer_id WHERE `+q.Where, q.Args...)
	}
	return nil, fmt.Errorf("richmenu: unknown match %q", r.Match)
}

func (s *Service) userSet(ctx context.Context, q string, args ...any) (map[string]bool, error) {
	rows, err := s.db.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("richmenu: members: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out[u] = true
	}
	return out, rows.Err()
}

// current is the per-user menu Tsunagu last set for each user.
func (s *Service) current(ctx context.Context) (map[string]string, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT line_user_id, line_menu_id FROM richmenu_users`)
	if err != nil {
		return nil, fmt.Errorf("richmenu: current menus: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var u, m string
		if err := rows.Scan(&u, &m); err != nil {
			return nil, err
		}
		out[u] = m
	}
	return out, rows.Err()
}

// apply works through the plan: one bulk call per menu and at most
// BulkSize users, each recorded as done in its own transaction, so that an
// interruption leaves exactly the unapplied rows.
func (s *Service) apply(ctx context.Context, run *Run) error {
	for {
		var menu string
		err := s.db.Reader().QueryRowContext(ctx, `SELECT line_menu_id FROM richmenu_sync_plan WHERE done = 0 ORDER BY line_menu_id LIMIT 1`).Scan(&menu)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("richmenu: read plan: %w", err)
		}
		users, err := s.userList(ctx, `SELECT line_user_id FROM richmenu_sync_plan WHERE done = 0 AND line_menu_id = ? ORDER BY line_user_id LIMIT ?`, menu, s.bulk)
		if err != nil {
			return err
		}
		if menu == "" {
			err = s.line.UnlinkRichMenuFromUsers(ctx, users)
		} else {
			err = s.line.LinkRichMenuToUsers(ctx, menu, users)
		}
		if menu != "" && errors.Is(err, line.ErrRichMenuNotFound) {
			// The menu went away since the plan was stored (a republish
			// or an edit on LINE): drop its rows; the next sync plans
			// these users afresh.
			if err := s.db.Write(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `DELETE FROM richmenu_sync_plan WHERE done = 0 AND line_menu_id = ?`, menu); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `UPDATE richmenu_settings SET dirty = 1 WHERE id = 1`)
				return err
			}); err != nil {
				return fmt.Errorf("richmenu: drop stale plan: %w", err)
			}
			run.stale = true
			continue
		}
		if err != nil {
			return err
		}
		run.Calls++
		run.Applied += len(users)
		now := s.now().UnixMilli()
		err = s.db.Write(ctx, func(tx *sql.Tx) error {
			in := strings.TrimSuffix(strings.Repeat("?,", len(users)), ",")
			args := make([]any, len(users))
			for i, u := range users {
				args[i] = u
			}
			if _, err := tx.ExecContext(ctx, `UPDATE richmenu_sync_plan SET done = 1 WHERE line_user_id IN (`+in+`)`, args...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO richmenu_users (line_user_id, line_menu_id, synced_at)
				SELECT line_user_id, line_menu_id, ? FROM richmenu_sync_plan WHERE line_user_id IN (`+in+`)
				ON CONFLICT (line_user_id) DO UPDATE SET line_menu_id = excluded.line_menu_id, synced_at = excluded.synced_at`,
				append([]any{now}, args...)...); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE richmenu_sync_runs SET applied = ?, calls = ? WHERE id = ?`, run.Applied, run.Calls, run.ID)
			return err
		})
		if err != nil {
			return fmt.Errorf("richmenu: record progress: %w", err)
		}
	}
}

func (s *Service) userList(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.db.Reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("richmenu: read plan: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// defaultTarget is the default design's LINE menu ("" for none) and what
// LINE was last told.
func (s *Service) defaultTarget(ctx context.Context) (want, have string, err error) {
	err = s.db.Reader().QueryRowContext(ctx, `SELECT coalesce((SELECT d.line_menu_id FROM richmenu_designs d WHERE d.id = s.default_design_id), ''),
		s.default_line_menu_id FROM richmenu_settings s WHERE s.id = 1`).Scan(&want, &have)
	if err != nil {
		return "", "", fmt.Errorf("richmenu: default menu: %w", err)
	}
	return want, have, nil
}

func (s *Service) defaultChanged(ctx context.Context) (bool, error) {
	want, have, err := s.defaultTarget(ctx)
	return want != have, err
}

func (s *Service) applyDefault(ctx context.Context) error {
	want, have, err := s.defaultTarget(ctx)
	if err != nil || want == have {
		return err
	}
	if want == "" {
		err = s.line.CancelDefaultRichMenu(ctx)
	} else {
		err = s.line.SetDefaultRichMenu(ctx, want)
	}
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE richmenu_settings SET default_line_menu_id = ? WHERE id = 1`, want)
		return err
	})
}

// cleanRetired deletes retired LINE menus no user is (or is about to be)
// linked to.
func (s *Service) cleanRetired(ctx context.Context) error {
	ids, err := s.userList(ctx, `SELECT r.line_menu_id FROM richmenu_retired r
		WHERE NOT EXISTS (SELECT 1 FROM richmenu_users u WHERE u.line_menu_id = r.line_menu_id)
		AND NOT EXISTS (SELECT 1 FROM richmenu_sync_plan p WHERE p.line_menu_id = r.line_menu_id AND p.done = 0)
		AND r.line_menu_id NOT IN (SELECT default_line_menu_id FROM richmenu_settings)`)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.line.DeleteRichMenu(ctx, id); err != nil {
			return err
		}
		if err := s.db.Write(ctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `DELETE FROM richmenu_retired WHERE line_menu_id = ?`, id)
			return err
		}); err != nil {
			return fmt.Errorf("richmenu: forget retired menu: %w", err)
		}
	}
	return nil
}

func (s *Service) startRun(ctx context.Context, run Run) (int64, error) {
	var id int64
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO richmenu_sync_runs (actor, state, planned, started_at) VALUES (?, 'running', ?, ?) RETURNING id`,
			run.Actor, run.Planned, run.StartedAt).Scan(&id)
	})
	if err != nil {
		return 0, fmt.Errorf("richmenu: start sync run: %w", err)
	}
	return id, nil
}

func (s *Service) finishRun(ctx context.Context, run Run) error {
	// The record survives a cancelled ctx: the run's outcome must be kept.
	ctx = context.WithoutCancel(ctx)
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE richmenu_sync_runs SET state = ?, applied = ?, calls = ?, error = ?, finished_at = ? WHERE id = ?`,
			run.State, run.Applied, run.Calls, run.Error, run.FinishedAt, run.ID); err != nil {
			return err
		}
		if run.State == "done" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM richmenu_sync_plan`); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE richmenu_settings SET dirty = ? WHERE id = 1`, run.stale); err != nil {
				return err
			}
		}
		detail := map[string]string{"state": run.State, "planned": strconv.Itoa(run.Planned), "applied": strconv.Itoa(run.Applied),
			"calls": strconv.Itoa(run.Calls), "resumed": strconv.FormatBool(run.Resumed)}
		_, err := audit.Record(ctx, tx, audit.Entry{At: run.FinishedAt, Actor: run.Actor, Action: ActionSync,
			Target: "richmenu:sync:" + strconv.FormatInt(run.ID, 10), Detail: detail})
		return err
	})
}

// Status is the sync's state for the admin screen.
type Status struct {
	Dirty   bool           `json:"dirty"`
	Pending int            `json:"pending"` // plan rows an interrupted sync left
	LastRun *Run           `json:"lastRun"`
	Users   map[string]int `json:"users"` // LINE menu ID ("" default) -> users Tsunagu set it for
}

// Status reports the last run, pending work and users per menu.
func (s *Service) Status(ctx context.Context) (Status, error) {
	st := Status{Users: map[string]int{}}
	r := s.db.Reader()
	var dirty int
	if err := r.QueryRowContext(ctx, `SELECT dirty, (SELECT count(*) FROM richmenu_sync_plan WHERE done = 0) FROM richmenu_settings WHERE id = 1`).
		Scan(&dirty, &st.Pending); err != nil {
		return st, fmt.Errorf("richmenu: status: %w", err)
	}
	st.Dirty = dirty != 0
	var run Run
	err := r.QueryRowContext(ctx, `SELECT id, actor, state, planned, applied, calls, error, started_at, finished_at
		FROM richmenu_sync_runs ORDER BY id DESC LIMIT 1`).Scan(&run.ID, &run.Actor, &run.State, &run.Planned, &run.Applied,
		&run.Calls, &run.Error, &run.StartedAt, &run.FinishedAt)
	switch {
	case err == nil:
		st.LastRun = &run
	case !errors.Is(err, sql.ErrNoRows):
		return st, fmt.Errorf("richmenu: status: %w", err)
	}
	rows, err := r.QueryContext(ctx, `SELECT u.line_menu_id, count(*) FROM richmenu_users u
		JOIN line_users l ON l.user_id = u.line_user_id AND l.follow_state = 'following' GROUP BY u.line_menu_id`)
	if err != nil {
		return st, fmt.Errorf("richmenu: status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			return st, err
		}
		st.Users[m] = n
	}
	return st, rows.Err()
}

// Fingerprint summarises what decides the targets (follows, links,
// imports, segments, assignments), so that a loop can sync only when it
// changed or the dirty flag is set.
func (s *Service) Fingerprint(ctx context.Context) (string, bool, error) {
	var fp string
	var dirty int
	err := s.db.Reader().QueryRowContext(ctx, `SELECT
		(SELECT count(*) || ':' || coalesce(max(created_at), 0) FROM line_users WHERE follow_state = 'following') || '/' ||
		(SELECT count(*) || ':' || coalesce(sum(linked_at), 0) FROM customer_line_links) || '/' ||
		(SELECT coalesce(max(id), 0) FROM imports) || '/' ||
		(SELECT coalesce(max(updated_at), 0) FROM segments),
		(SELECT dirty FROM richmenu_settings WHERE id = 1)`).Scan(&fp, &dirty)
	if err != nil {
		return "", false, fmt.Errorf("richmenu: fingerprint: %w", err)
	}
	return fp, dirty != 0, nil
}
