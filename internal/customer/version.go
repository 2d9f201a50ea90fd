package customer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ErrStale refuses an edit made from a card loaded before someone (or an
// import, a link, a survey answer) changed the customer since: the edit
// would overwrite a change its author never saw. Nothing is written.
var ErrStale = errors.New("customer: changed since the card was loaded")

// anyVersion is the version of a change made without a card to compare
// (import, CLI, linking, tests): it is not checked.
const anyVersion int64 = 0

// Editor makes the changes a person makes on a customer's card, each
// refused with ErrStale unless the customer is still at the version the
// card showed (Customer.Version; migration 0030 bumps it with every write).
type Editor struct {
	s       *Service
	version int64
}

// From returns the editor of a card loaded at version.
func (s *Service) From(version int64) Editor { return Editor{s: s, version: version} }

// SetConsent is Service.SetConsent from the card.
func (e Editor) SetConsent(ctx context.Context, actor string, customerID int64, channel string, granted bool, source string) error {
	if err := e.valid(); err != nil {
		return err
	}
	return e.s.setConsent(ctx, actor, customerID, e.version, channel, granted, source)
}

// AddTag is Service.AddTag from the card.
func (e Editor) AddTag(ctx context.Context, actor string, customerID int64, tag string) error {
	if err := e.valid(); err != nil {
		return err
	}
	return e.s.addTag(ctx, actor, customerID, e.version, tag)
}

// RemoveTag is Service.RemoveTag from the card.
func (e Editor) RemoveTag(ctx context.Context, actor string, customerID int64, tag string) error {
	if err := e.valid(); err != nil {
		return err
	}
	return e.s.removeTag(ctx, actor, customerID, e.version, tag)
}

// SetAttribute is Service.SetAttribute from the card.
func (e Editor) SetAttribute(ctx context.Context, actor string, customerID int64, key, value string) error {
	if err := e.valid(); err != nil {
		return err
	}
	return e.s.setAttribute(ctx, actor, customerID, e.version, key, value)
}

// valid refuses a missing version: a card always has one (from 1), so a
// zero is a caller's bug, which must not turn into an unchecked write.
func (e Editor) valid() error {
	if e.version < 1 {
		return fmt.Errorf("customer version %d: %w", e.version, ErrInvalid)
	}
	return nil
}

// checkVersion fails with ErrStale unless customerID is at version
// (anyVersion: not checked), and with ErrNotFound without the customer.
// It runs first in the edit's transaction, so a refused edit writes and
// audits nothing.
func checkVersion(ctx context.Context, tx *sql.Tx, customerID, version int64) error {
	if version == anyVersion {
		return nil
	}
	var current int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM customers WHERE id = ?`, customerID).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("customer %d: %w", customerID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("version of customer %d: %w", customerID, err)
	}
	if current != version {
		return fmt.Errorf("customer %d at version %d, edited from %d: %w", customerID, current, version, ErrStale)
	}
	return nil
}

// changeActions are the audited changes of a customer's card (the linking
// package records its links with ActionLinkLine and "linking.relink").
var changeActions = []any{ActionConsent, ActionLinkLine, ActionUnlinkLine, ActionProductAdd, ActionAttributeSet,
	ActionTagAdd, ActionTagRemove, "linking.relink"}

// lastChange is who made the newest audited change to the customer and
// when: "" and 0 if none is on the trail (an import's changes are audited
// per import, not per customer). Index audit_by_target (migration 0030).
func lastChange(ctx context.Context, r *sql.DB, customerID int64) (actor string, at int64, err error) {
	err = r.QueryRowContext(ctx, `SELECT actor, at FROM audit_log WHERE target = ? AND action IN (?, ?, ?, ?, ?, ?, ?, ?)
		ORDER BY seq DESC LIMIT 1`, append([]any{Target(customerID)}, changeActions...)...).Scan(&actor, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	return actor, at, err
}
