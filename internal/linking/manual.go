package linking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"tsunagu/internal/customer"
)

// Link is a LINE user's link to a customer.
type Link struct {
	CustomerID     int64  `json:"customerId"`
	LineUserID     string `json:"lineUserId"`
	ConversationID int64  `json:"conversationId"` // 0: no conversation yet
	Method         string `json:"method"`         // manual, code, import
	LinkedBy       string `json:"linkedBy"`
	LinkedAt       int64  `json:"linkedAt"`
}

// MaxReason is the longest reason kept in the audit trail (runes).
const MaxReason = 200

// ByConversation returns the conversation's LINE user and their link (nil
// if not linked).
func (s *Service) ByConversation(ctx context.Context, convID int64) (string, *Link, error) {
	var user string
	err := s.db.Reader().QueryRowContext(ctx, `SELECT line_user_id FROM conversations WHERE id = ?`, convID).Scan(&user)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("conversation %d: %w", convID, ErrNotFound)
	}
	if err != nil {
		return "", nil, fmt.Errorf("conversation %d: %w", convID, err)
	}
	l, err := s.link(ctx, `l.line_user_id = ?`, user)
	return user, l, err
}

// DisplayName is the LINE user's profile name as the inbox last stored it.
func (s *Service) DisplayName(ctx context.Context, userID string) (string, error) {
	var name string
	err := s.db.Reader().QueryRowContext(ctx, `SELECT display_name FROM line_users WHERE user_id = ?`, userID).Scan(&name)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("LINE user name: %w", err)
	}
	return name, nil
}

// ByCustomer returns the customer's link, nil if not linked.
func (s *Service) ByCustomer(ctx context.Context, customerID int64) (*Link, error) {
	return s.link(ctx, `l.customer_id = ?`, customerID)
}

func (s *Service) link(ctx context.Context, where string, arg any) (*Link, error) {
	var l Link
	err := s.db.Reader().QueryRowContext(ctx, `SELECT l.customer_id, l.line_user_id, coalesce(c.id, 0), l.method, l.linked_by, l.linked_at
		FROM customer_line_links l LEFT JOIN conversations c ON c.line_user_id = l.line_user_id WHERE `+where, arg).
		Scan(&l.CustomerID, &l.LineUserID, &l.ConversationID, &l.Method, &l.LinkedBy, &l.LinkedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read LINE link: %w", err)
	}
	return &l, nil
}

// LinkConversation links the conversation's LINE user to a customer by hand
// (method manual, audited). Either side already linked fails with
// ErrUserLinked or ErrCustomerLinked: Relink moves a link.
func (s *Service) LinkConversation(ctx context.Context, actor string, convID, customerID int64) error {
	return s.LinkWithConsent(ctx, actor, convID, customerID, ConsentNone)
}

// LinkWithConsent is LinkConversation that also records, in the same
// transaction, the customer's consent to LINE messages and how it was given
// (consent: ConsentWritten, ConsentVerbal or ConsentLINE, the consent's
// source; ConsentNone records nothing). Both are audited.
func (s *Service) LinkWithConsent(ctx context.Context, actor string, convID, customerID int64, consent string) error {
	if err := checkConsent(consent); err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		user, err := conversationUser(ctx, tx, convID)
		if err != nil {
			return err
		}
		if err := s.linkTx(ctx, tx, actor, customerID, user, "manual", map[string]string{"conversation": itoa(convID)}); err != nil {
			return err
		}
		if consent == ConsentNone {
			return nil
		}
		return s.customers.SetConsentTx(ctx, tx, actor, customerID, customer.ChannelLINE, true, consent)
	})
}

// Unlink removes the customer's link. A reason is required and audited.
func (s *Service) Unlink(ctx context.Context, actor string, customerID int64, reason string) error {
	reason, err := checkReason(reason)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		n, err := s.unlinkTx(ctx, tx, actor, `customer_id = ?`, customerID, reason)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("customer %d: %w", customerID, ErrNotLinked)
		}
		return nil
	})
}

// Relink links the conversation's LINE user to a customer, first removing
// the user's current link and the customer's, if any, all in one
// transaction. A reason is required and audited with every part.
func (s *Service) Relink(ctx context.Context, actor string, convID, customerID int64, reason string) error {
	reason, err := checkReason(reason)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *sql.Tx) error {
		user, err := conversationUser(ctx, tx, convID)
		if err != nil {
			return err
		}
		var prevCustomer int64
		err = tx.QueryRowContext(ctx, `SELECT customer_id FROM customer_line_links WHERE line_user_id = ?`, user).Scan(&prevCustomer)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if prevCustomer == customerID {
			return fmt.Errorf("customer %d: %w", customerID, ErrCustomerLinked)
		}
		if _, err := s.unlinkTx(ctx, tx, actor, `line_user_id = ?`, user, reason); err != nil {
			return err
		}
		if _, err := s.unlinkTx(ctx, tx, actor, `customer_id = ?`, customerID, reason); err != nil {
			return err
		}
		if err := s.linkTx(ctx, tx, actor, customerID, user, "manual", map[string]string{"conversation": itoa(convID), "reason": reason}); err != nil {
			return err
		}
		detail := map[string]string{"conversation": itoa(convID), "reason": reason}
		if prevCustomer != 0 {
			detail["previousCustomer"] = itoa(prevCustomer)
		}
		return s.record(ctx, tx, actor, ActionRelink, customerID, detail)
	})
}

// linkTx links a customer and a LINE user inside tx, enforcing one link per
// side with clear errors, and closes the customer's open codes and any code
// the user was being verified for. Audited as customer.link_line.
func (s *Service) linkTx(ctx context.Context, tx *sql.Tx, actor string, customerID int64, user, method string, detail map[string]string) error {
	var other int64
	err := tx.QueryRowContext(ctx, `SELECT customer_id FROM customer_line_links WHERE line_user_id = ?`, user).Scan(&other)
	switch {
	case err == nil && other == customerID:
		return fmt.Errorf("customer %d: %w", customerID, ErrCustomerLinked)
	case err == nil:
		return ErrUserLinked
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("find LINE link: %w", err)
	}
	var taken string
	err = tx.QueryRowContext(ctx, `SELECT line_user_id FROM customer_line_links WHERE customer_id = ?`, customerID).Scan(&taken)
	switch {
	case err == nil:
		return fmt.Errorf("customer %d: %w", customerID, ErrCustomerLinked)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("find LINE link: %w", err)
	}
	if detail == nil {
		detail = map[string]string{}
	}
	detail["method"] = method
	// The audit entry first: it also proves the customer exists.
	if err := s.record(ctx, tx, actor, customer.ActionLinkLine, customerID, detail); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO customer_line_links (customer_id, line_user_id, linked_at, method, linked_by) VALUES (?, ?, ?, ?, ?)`,
		customerID, user, s.now().UnixMilli(), method, actor); err != nil {
		return fmt.Errorf("link customer %d: %w", customerID, err)
	}
	if err := s.revokeOpen(ctx, tx, actor, customerID, "linked"); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE link_codes SET state = 'revoked', closed_at = ? WHERE line_user_id = ? AND state = 'verifying'`, s.now().UnixMilli(), user)
	return err
}

// unlinkTx removes the links matching where (customer_id = ? or
// line_user_id = ?), each audited with the reason; it returns how many.
func (s *Service) unlinkTx(ctx context.Context, tx *sql.Tx, actor, where string, arg any, reason string) (int, error) {
	ids, err := int64s(ctx, tx, `SELECT customer_id FROM customer_line_links WHERE `+where, arg)
	if err != nil {
		return 0, fmt.Errorf("find LINE link: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `DELETE FROM customer_line_links WHERE customer_id = ?`, id); err != nil {
			return 0, fmt.Errorf("unlink customer %d: %w", id, err)
		}
		if err := s.record(ctx, tx, actor, customer.ActionUnlinkLine, id, map[string]string{"reason": reason}); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

func conversationUser(ctx context.Context, tx *sql.Tx, convID int64) (string, error) {
	var user string
	err := tx.QueryRowContext(ctx, `SELECT line_user_id FROM conversations WHERE id = ?`, convID).Scan(&user)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("conversation %d: %w", convID, ErrNotFound)
	}
	return user, err
}

func checkReason(r string) (string, error) {
	r = strings.Join(strings.Fields(r), " ")
	if r == "" {
		return "", ErrReasonRequired
	}
	if utf8.RuneCountInString(r) > MaxReason {
		r = string([]rune(r)[:MaxReason])
	}
	return r, nil
}
