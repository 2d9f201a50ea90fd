package customer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"tsunagu/internal/audit"
)

// Audited actions of the customer feature. Entries name the customer by ID
// and number and say what changed, never a name, phone, email or value of a
// custom attribute.
const (
	ActionView            = "customer.view"
	ActionConsent         = "customer.consent"
	ActionLinkLine        = "customer.link_line"
	ActionUnlinkLine      = "customer.unlink_line"
	ActionProductAdd      = "customer.product_add"
	ActionAttributeDefine = "customer.attribute_define"
	ActionAttributeSet    = "customer.attribute_set"
	ActionTagAdd          = "customer.tag_add"
	ActionTagRemove       = "customer.tag_remove"
)

// Target is the audit target of a customer.
func Target(customerID int64) string { return "customer:" + strconv.FormatInt(customerID, 10) }

// record appends the audit entry of a change to customerID inside tx. It
// fails with ErrNotFound if there is no such customer, so a change to a
// missing customer is neither made nor recorded.
func (s *Service) record(ctx context.Context, tx *sql.Tx, actor, action string, customerID int64, detail map[string]string) error {
	var no string
	err := tx.QueryRowContext(ctx, `SELECT customer_no FROM customers WHERE id = ?`, customerID).Scan(&no)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("customer %d: %w", customerID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("customer %d: %w", customerID, err)
	}
	if detail == nil {
		detail = map[string]string{}
	}
	detail["customerNo"] = no
	_, err = audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: action, Target: Target(customerID), Detail: detail})
	return err
}

// View returns a customer's card and records that actor viewed it. The card
// is returned only if the record was written (fail closed): a card is
// personal data, and every look at it must be on the trail.
func (s *Service) View(ctx context.Context, actor string, id int64) (Card, error) {
	card, err := s.Card(ctx, id)
	if err != nil {
		return Card{}, err
	}
	if err := s.db.Write(ctx, func(tx *sql.Tx) error {
		return s.record(ctx, tx, actor, ActionView, id, nil)
	}); err != nil {
		return Card{}, fmt.Errorf("audit view of customer %d: %w", id, err)
	}
	return card, nil
}

// ActionList is a customer list shown in full, without masking
// (`tsunagu-cli customers list`): names, numbers and contacts of many
// customers at once.
const ActionList = "customer.list"

// ListAudited is List for a caller that shows the customers in full. It
// records who listed how many with which filters; of a search text only
// that there was one (it may be a name or a phone number). The page is
// returned only if the entry was written (fail closed), as View does.
func (s *Service) ListAudited(ctx context.Context, actor string, f Filter) (Page, error) {
	page, err := s.List(ctx, f)
	if err != nil {
		return Page{}, err
	}
	detail := map[string]string{
		"shown":  strconv.Itoa(len(page.Customers)),
		"total":  strconv.Itoa(page.Total),
		"query":  strconv.FormatBool(strings.TrimSpace(f.Query) != ""),
		"offset": strconv.Itoa(f.Offset),
	}
	for k, v := range map[string]string{"branch": f.Branch, "status": f.Status, "tag": f.Tag, "lineLinked": f.LineLinked, "consent": f.Consent, "noConsent": f.NoConsent} {
		if v != "" {
			detail[k] = v
		}
	}
	if err := s.db.Write(ctx, func(tx *sql.Tx) error {
		_, err := audit.Record(ctx, tx, audit.Entry{At: s.now().UnixMilli(), Actor: actor, Action: ActionList, Detail: detail})
		return err
	}); err != nil {
		return Page{}, fmt.Errorf("audit customer list: %w", err)
	}
	return page, nil
}
