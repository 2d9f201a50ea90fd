package richmenu

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/inbox"
)

// ErrNoImage means a menu to publish has no image yet.
var ErrNoImage = errors.New("richmenu: a menu has no image")

// PublishResult says what Publish did.
type PublishResult struct {
	Created int `json:"created"` // LINE menus created (new or changed designs)
	Current int `json:"current"` // designs already on LINE as they are
	Orphans int `json:"orphans"` // leftover LINE menus of an interrupted publish, deleted
	// Assigned counts the designs the rules and the default use: 0 means
	// there was nothing to publish (the screen says what to do, not "0").
	Assigned   int  `json:"assigned"`
	HasDefault bool `json:"hasDefault"` // friends no rule matches get a menu
}

// Publish puts every assigned design on LINE that is not there in its
// current revision. The users are moved by the next Sync, which then deletes
// the replaced LINE menus.
func (s *Service) Publish(ctx context.Context, actor string) (PublishResult, error) {
	if s.line == nil {
		return PublishResult{}, ErrNoLine
	}
	s.syncs.Lock()
	defer s.syncs.Unlock()
	return s.publishLocked(ctx, actor, false)
}

// publishLocked publishes the assigned designs; onlyMissing republishes
// only designs whose LINE menu LINE no longer has (the sandbox simulator
// starts empty), leaving unpublished edits for staff to publish.
func (s *Service) publishLocked(ctx context.Context, actor string, onlyMissing bool) (PublishResult, error) {
	var res PublishResult
	designs, err := s.assignedDesigns(ctx)
	if err != nil {
		return res, err
	}
	res.Assigned = len(designs)
	if res.HasDefault, err = s.hasDefault(ctx); err != nil {
		return res, err
	}
	onLine, err := s.line.RichMenus(ctx)
	if err != nil {
		return res, err
	}
	known := map[string]string{} // LINE menu ID -> its name
	for _, m := range onLine {
		known[m.ID] = m.Name
	}
	for _, d := range designs {
		_, exists := known[d.LineMenuID]
		switch {
		case d.LineMenuID != "" && exists && (onlyMissing || d.PublishedRevision == d.Revision):
			res.Current++
			continue
		case onlyMissing && d.LineMenuID == "":
			continue // never published: staff publish it
		}
		if err := s.publishDesign(ctx, actor, d); err != nil {
			return res, err
		}
		res.Created++
	}
	// Tsunagu's menus that no design or retired entry knows were created
	// by a publish that crashed before recording them.
	keep, err := s.knownMenus(ctx)
	if err != nil {
		return res, err
	}
	for id, name := range known {
		if strings.HasPrefix(name, lineNamePrefix) && !keep[id] {
			if err := s.line.DeleteRichMenu(ctx, id); err != nil {
				return res, err
			}
			res.Orphans++
		}
	}
	return res, nil
}

// publishDesign creates d's LINE menu with its image and records it,
// retiring the menu it replaces.
func (s *Service) publishDesign(ctx context.Context, actor string, d Design) error {
	img, typ, err := s.Image(ctx, d.ID)
	if err != nil {
		return err
	}
	if len(img) == 0 {
		return fmt.Errorf("%w: %s", ErrNoImage, d.Name)
	}
	id, err := s.line.CreateRichMenu(ctx, d.lineMenu())
	if err != nil {
		return err
	}
	if err := s.line.SetRichMenuImage(ctx, id, typ, img); err != nil {
		// A menu without an image cannot be shown; delete it now (or, if
		// that fails too, the next publish deletes it as an orphan).
		_ = s.line.DeleteRichMenu(ctx, id)
		return err
	}
	now := s.now().UnixMilli()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		if err := retireTx(ctx, tx, d.LineMenuID, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE richmenu_designs SET line_menu_id = ?, published_revision = ?, published_at = ? WHERE id = ?`,
			id, d.Revision, now, d.ID)
		if err != nil {
			return fmt.Errorf("richmenu: record publish: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return retireTx(ctx, tx, id, now) // deleted meanwhile: its menu goes too
		}
		if _, err := tx.ExecContext(ctx, `UPDATE richmenu_settings SET dirty = 1 WHERE id = 1`); err != nil {
			return err
		}
		// A tap on a menu area arrives as its postback data only: the
		// thread shows what the area says instead.
		for _, a := range d.Areas {
			label := a.Action.DisplayText
			if label == "" {
				label = a.Action.Label
			}
			if (a.Action.Type == "postback" || a.Action.Type == "datetimepicker") && a.Action.Data != "" && label != "" {
				if err := inbox.RegisterPostbackLabel(ctx, tx, a.Action.Data, label, time.UnixMilli(now)); err != nil {
					return fmt.Errorf("richmenu: %w", err)
				}
			}
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionPublish, Target: designTarget(d.ID),
			Detail: map[string]string{"revision": strconv.Itoa(d.Revision), "lineMenuId": id, "replaces": d.LineMenuID}})
		return err
	})
}

// hasDefault reports whether a default design is set and still exists.
func (s *Service) hasDefault(ctx context.Context) (bool, error) {
	var n int
	err := s.db.Reader().QueryRowContext(ctx, `SELECT count(*) FROM richmenu_designs
		WHERE id = (SELECT default_design_id FROM richmenu_settings WHERE id = 1)`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("richmenu: default design: %w", err)
	}
	return n > 0, nil
}

// assignedDesigns are the designs the rules and the default use.
func (s *Service) assignedDesigns(ctx context.Context) ([]Design, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+designCols+` FROM richmenu_designs WHERE
		id IN (SELECT design_id FROM richmenu_rules) OR id = (SELECT default_design_id FROM richmenu_settings WHERE id = 1)
		ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("richmenu: assigned designs: %w", err)
	}
	defer rows.Close()
	var out []Design
	for rows.Next() {
		d, err := scanDesign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// knownMenus are the LINE menu IDs Tsunagu has recorded: current designs'
// and retired ones still to be deleted by a sync.
func (s *Service) knownMenus(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT line_menu_id FROM richmenu_designs WHERE line_menu_id <> ''
		UNION SELECT line_menu_id FROM richmenu_retired`)
	if err != nil {
		return nil, fmt.Errorf("richmenu: known menus: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
