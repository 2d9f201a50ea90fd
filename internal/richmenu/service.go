package richmenu

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/fielderr"
	"tsunagu/internal/line"
	"tsunagu/internal/segment"
	"tsunagu/internal/store"
)

// Audit actions.
const (
	ActionDesignSave   = "richmenu.design_save"
	ActionDesignDelete = "richmenu.design_delete"
	ActionDesignImage  = "richmenu.design_image"
	ActionAssign       = "richmenu.assign"
	ActionPublish      = "richmenu.publish"
	ActionSync         = "richmenu.sync"
)

// Errors.
var (
	ErrNotFound = errors.New("richmenu: not found")
	ErrInUse    = errors.New("richmenu: the menu is assigned; change the assignments first")
	ErrNoLine   = errors.New("richmenu: no LINE channel")
	ErrBusy     = errors.New("richmenu: a sync is already running")
)

// LINE is what the package needs of the Messaging API (*line.Client).
type LINE interface {
	CreateRichMenu(ctx context.Context, m line.RichMenu) (string, error)
	SetRichMenuImage(ctx context.Context, richMenuID, contentType string, img []byte) error
	RichMenus(ctx context.Context) ([]line.RichMenu, error)
	DeleteRichMenu(ctx context.Context, richMenuID string) error
	SetDefaultRichMenu(ctx context.Context, richMenuID string) error
	CancelDefaultRichMenu(ctx context.Context) error
	LinkRichMenuToUsers(ctx context.Context, richMenuID string, userIDs []string) error
	UnlinkRichMenuFromUsers(ctx context.Context, userIDs []string) error
}

// Config configures a Service.
type Config struct {
	DB       *store.DB
	Line     LINE             // nil: designs and assignments only (CLI)
	Segments *segment.Service // compiles segment rules
	Clock    func() time.Time // nil: time.Now
	BulkSize int              // user IDs per bulk call; 0: line.MaxRichMenuBulkUsers
}

// Service manages designs, assignments, publishing and sync.
type Service struct {
	db    *store.DB
	line  LINE
	segs  *segment.Service
	now   func() time.Time
	bulk  int
	syncs sync.Mutex // one publish or sync at a time
}

// New returns a service for cfg.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Segments == nil {
		return nil, errors.New("richmenu: DB and segments are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.BulkSize <= 0 || cfg.BulkSize > line.MaxRichMenuBulkUsers {
		cfg.BulkSize = line.MaxRichMenuBulkUsers
	}
	return &Service{db: cfg.DB, line: cfg.Line, segs: cfg.Segments, now: cfg.Clock, bulk: cfg.BulkSize}, nil
}

const designCols = `id, name, width, height, chat_bar_text, selected, areas, image_type, revision,
	published_revision, line_menu_id, published_at, updated_by, updated_at`

func scanDesign(sc interface{ Scan(...any) error }) (Design, error) {
	var d Design
	var areas string
	var selected int
	if err := sc.Scan(&d.ID, &d.Name, &d.Width, &d.Height, &d.ChatBarText, &selected, &areas, &d.ImageType, &d.Revision,
		&d.PublishedRevision, &d.LineMenuID, &d.PublishedAt, &d.UpdatedBy, &d.UpdatedAt); err != nil {
		return Design{}, err
	}
	d.Selected = selected != 0
	if err := json.Unmarshal([]byte(areas), &d.Areas); err != nil {
		return Design{}, fmt.Errorf("richmenu: design %d areas: %w", d.ID, err)
	}
	return d, nil
}

// Designs lists the designs by name.
func (s *Service) Designs(ctx context.Context) ([]Design, error) {
	rows, err := s.db.Reader().QueryContext(ctx, `SELECT `+designCols+` FROM richmenu_designs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("richmenu: list designs: %w", err)
	}
	defer rows.Close()
	out := []Design{}
	for rows.Next() {
		d, err := scanDesign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Design returns one design.
func (s *Service) Design(ctx context.Context, id int64) (Design, error) {
	d, err := scanDesign(s.db.Reader().QueryRowContext(ctx, `SELECT `+designCols+` FROM richmenu_designs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Design{}, ErrNotFound
	}
	return d, err
}

// Image returns a design's image and its MIME type.
func (s *Service) Image(ctx context.Context, id int64) ([]byte, string, error) {
	var img []byte
	var typ string
	err := s.db.Reader().QueryRowContext(ctx, `SELECT coalesce(image, x''), image_type FROM richmenu_designs WHERE id = ?`, id).Scan(&img, &typ)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("richmenu: image: %w", err)
	}
	return img, typ, nil
}

// SaveDesign creates (ID 0) or updates a design. A changed size drops an
// image that no longer fits; every save bumps the revision, so the next
// publish uploads it as a new LINE menu.
func (s *Service) SaveDesign(ctx context.Context, actor string, d Design) (Design, error) {
	d.Name = strings.TrimSpace(d.Name)
	if err := d.Validate(); err != nil {
		return Design{}, err
	}
	areas, err := json.Marshal(d.Areas)
	if err != nil {
		return Design{}, fmt.Errorf("richmenu: encode areas: %w", err)
	}
	now := s.now().UnixMilli()
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		if d.ID == 0 {
			res, err := tx.ExecContext(ctx, `INSERT INTO richmenu_designs (name, width, height, chat_bar_text, selected, areas,
				created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				d.Name, d.Width, d.Height, d.ChatBarText, d.Selected, string(areas), actor, now, actor, now)
			if err != nil {
				return err
			}
			d.ID, _ = res.LastInsertId()
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE richmenu_designs SET name = ?, chat_bar_text = ?, selected = ?, areas = ?,
				image = CASE WHEN width = ? AND height = ? THEN image END,
				image_type = CASE WHEN width = ? AND height = ? THEN image_type ELSE '' END,
				width = ?, height = ?, revision = revision + 1, updated_by = ?, updated_at = ? WHERE id = ?`,
				d.Name, d.ChatBarText, d.Selected, string(areas), d.Width, d.Height, d.Width, d.Height, d.Width, d.Height, actor, now, d.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return ErrNotFound
			}
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionDesignSave, Target: designTarget(d.ID),
			Detail: map[string]string{"name": d.Name, "areas": strconv.Itoa(len(d.Areas))}})
		return err
	})
	if err != nil {
		if store.IsUnique(err) {
			return Design{}, fielderr.New(ErrInvalid, "name", fielderr.Taken)
		}
		if errors.Is(err, ErrNotFound) {
			return Design{}, err
		}
		return Design{}, fmt.Errorf("richmenu: save design: %w", err)
	}
	return s.Design(ctx, d.ID)
}

// SetImage stores a design's image after CheckImage.
func (s *Service) SetImage(ctx context.Context, actor string, id int64, data []byte) (Design, error) {
	d, err := s.Design(ctx, id)
	if err != nil {
		return Design{}, err
	}
	typ, err := CheckImage(data, d.Width, d.Height)
	if err != nil {
		return Design{}, err
	}
	now := s.now().UnixMilli()
	err = s.db.Write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE richmenu_designs SET image = ?, image_type = ?, revision = revision + 1,
			updated_by = ?, updated_at = ? WHERE id = ? AND width = ? AND height = ?`, data, typ, actor, now, id, d.Width, d.Height)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound // deleted or resized meanwhile
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionDesignImage, Target: designTarget(id),
			Detail: map[string]string{"type": typ, "bytes": strconv.Itoa(len(data))}})
		return err
	})
	if err != nil {
		return Design{}, fmt.Errorf("richmenu: set image: %w", err)
	}
	return s.Design(ctx, id)
}

// DeleteDesign deletes a design no assignment uses. Its LINE menu, if any,
// is retired: the next sync deletes it once nobody has it.
func (s *Service) DeleteDesign(ctx context.Context, actor string, id int64) error {
	now := s.now().UnixMilli()
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		var used int
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM richmenu_rules WHERE design_id = ?) +
			(SELECT count(*) FROM richmenu_settings WHERE default_design_id = ?)`, id, id).Scan(&used); err != nil {
			return fmt.Errorf("richmenu: delete design: %w", err)
		}
		if used > 0 {
			return ErrInUse
		}
		var menu string
		err := tx.QueryRowContext(ctx, `DELETE FROM richmenu_designs WHERE id = ? RETURNING line_menu_id`, id).Scan(&menu)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("richmenu: delete design: %w", err)
		}
		if err := retireTx(ctx, tx, menu, now); err != nil {
			return err
		}
		_, err = audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionDesignDelete, Target: designTarget(id)})
		return err
	})
}

func retireTx(ctx context.Context, tx *sql.Tx, menu string, now int64) error {
	if menu == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO richmenu_retired (line_menu_id, retired_at) VALUES (?, ?)`, menu, now); err != nil {
		return fmt.Errorf("richmenu: retire menu: %w", err)
	}
	return nil
}

func designTarget(id int64) string { return "richmenu:" + strconv.FormatInt(id, 10) }

// Match kinds of a rule.
const (
	MatchSegment  = "segment"  // members of a saved segment (linked customers)
	MatchLinked   = "linked"   // friends linked to any customer
	MatchUnlinked = "unlinked" // friends not linked to a customer
)

// Rule assigns a menu to the friends it matches.
type Rule struct {
	Match     string `json:"match"`
	SegmentID int64  `json:"segmentId,omitempty"`
	DesignID  int64  `json:"designId"`
}

// Assignments are the ordered rules (first match wins) and the default
// menu for everyone else (0: none).
type Assignments struct {
	Rules           []Rule `json:"rules"`
	DefaultDesignID int64  `json:"defaultDesignId"`
}

// MaxRules bounds the assignment list.
const MaxRules = 50

// Assignments returns the current rules and default.
func (s *Service) Assignments(ctx context.Context) (Assignments, error) {
	return loadAssignments(ctx, s.db.Reader())
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func loadAssignments(ctx context.Context, q querier) (Assignments, error) {
	a := Assignments{Rules: []Rule{}}
	rows, err := q.QueryContext(ctx, `SELECT match, coalesce(segment_id, 0), design_id FROM richmenu_rules ORDER BY position`)
	if err != nil {
		return a, fmt.Errorf("richmenu: assignments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Rule
		if err := rows.Scan(&r.Match, &r.SegmentID, &r.DesignID); err != nil {
			return a, err
		}
		a.Rules = append(a.Rules, r)
	}
	if err := rows.Err(); err != nil {
		return a, err
	}
	var def sql.NullInt64
	if err := q.QueryRowContext(ctx, `SELECT default_design_id FROM richmenu_settings WHERE id = 1`).Scan(&def); err != nil {
		return a, fmt.Errorf("richmenu: assignments: %w", err)
	}
	a.DefaultDesignID = def.Int64
	return a, nil
}

// SetAssignments replaces the rules and default; the next sync applies them.
func (s *Service) SetAssignments(ctx context.Context, actor string, a Assignments) error {
	if len(a.Rules) > MaxRules {
		return fielderr.NewMax(ErrInvalid, "rules", fielderr.TooMany, MaxRules)
	}
	for i, r := range a.Rules {
		switch r.Match {
		case MatchSegment:
			if r.SegmentID <= 0 {
				return fielderr.New(ErrInvalid, fmt.Sprintf("rules.%d.segmentId", i), fielderr.Choose)
			}
		case MatchLinked, MatchUnlinked:
		default:
			return fielderr.New(ErrInvalid, fmt.Sprintf("rules.%d.match", i), fielderr.Choose)
		}
		if r.DesignID <= 0 {
			return fielderr.New(ErrInvalid, fmt.Sprintf("rules.%d.designId", i), fielderr.Choose)
		}
	}
	now := s.now().UnixMilli()
	err := s.db.Write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM richmenu_rules`); err != nil {
			return err
		}
		for i, r := range a.Rules {
			var seg any
			if r.Match == MatchSegment {
				seg = r.SegmentID
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO richmenu_rules (position, match, segment_id, design_id) VALUES (?, ?, ?, ?)`,
				i+1, r.Match, seg, r.DesignID); err != nil {
				// A segment or menu deleted meanwhile: the clerk picks again.
				return fielderr.New(ErrInvalid, fmt.Sprintf("rules.%d", i), fielderr.Choose)
			}
		}
		var def any
		if a.DefaultDesignID > 0 {
			def = a.DefaultDesignID
		}
		if _, err := tx.ExecContext(ctx, `UPDATE richmenu_settings SET default_design_id = ?, dirty = 1 WHERE id = 1`, def); err != nil {
			return fielderr.New(ErrInvalid, "defaultDesignId", fielderr.Choose)
		}
		_, err := audit.Record(ctx, tx, audit.Entry{At: now, Actor: actor, Action: ActionAssign, Target: "richmenu:assignments",
			Detail: map[string]string{"rules": strconv.Itoa(len(a.Rules)), "default": strconv.FormatInt(a.DefaultDesignID, 10)}})
		return err
	})
	if err != nil && !errors.Is(err, ErrInvalid) {
		return fmt.Errorf("richmenu: set assignments: %w", err)
	}
	return err
}

// MarkDirty asks the next sync to run even if nothing it watches changed
// (e.g. after an import changed segment membership).
func (s *Service) MarkDirty(ctx context.Context) error {
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE richmenu_settings SET dirty = 1 WHERE id = 1`)
		return err
	})
}
