package customer

import (
	"context"
	"database/sql"
	"fmt"

	"tsunagu/internal/erasure"
)

// ErasureHooks are the customer feature's hooks for erasure.New: erasing a
// LINE user unlinks them, and EraseCustomer is available.
func ErasureHooks() erasure.Hooks {
	return erasure.Hooks{
		LineUser: []func(context.Context, *sql.Tx, string) error{UnlinkLineUser},
		Customer: EraseCustomer,
	}
}

// The erasure hooks (package erasure runs them in its transaction, which
// also writes the audit entry; see erasure.Hooks).

// UnlinkLineUser removes the link of a LINE user to a customer, if any.
// It is erasure's LineUser hook: the LINE user is deleted next.
func UnlinkLineUser(ctx context.Context, tx *sql.Tx, lineUserID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM customer_line_links WHERE line_user_id = ?`, lineUserID); err != nil {
		return fmt.Errorf("erase: unlink LINE user: %w", err)
	}
	return nil
}

// EraseCustomer deletes a customer with their contact points, consents,
// products, custom attributes, tags and LINE link, and returns the LINE
// users that were linked to them (erasure erases those next). It is
// erasure's Customer hook. ErrNotFound if there is no such customer.
func EraseCustomer(ctx context.Context, tx *sql.Tx, customerID int64) ([]string, error) {
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = ?`, customerID).Scan(&one); err != nil {
		if err == sql.ErrNoRows {
			return nil, fmt.Errorf("customer %d: %w", customerID, ErrNotFound)
		}
		return nil, fmt.Errorf("erase customer %d: %w", customerID, err)
	}
	var users []string
	rows, err := tx.QueryContext(ctx, `SELECT line_user_id FROM customer_line_links WHERE customer_id = ?`, customerID)
	if err != nil {
		return nil, fmt.Errorf("erase customer %d: %w", customerID, err)
	}
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			rows.Close()
			return nil, fmt.Errorf("erase customer %d: %w", customerID, err)
		}
		users = append(users, u)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("erase customer %d: %w", customerID, err)
	}
	// Explicit deletes rather than relying on ON DELETE CASCADE alone, so
	// erasure does not depend on the foreign_keys pragma.
	for _, q := range []string{
		`DELETE FROM customer_line_links WHERE customer_id = ?`,
		`DELETE FROM contact_points WHERE customer_id = ?`,
		`DELETE FROM products WHERE customer_id = ?`,
		`DELETE FROM customer_attributes WHERE customer_id = ?`,
		`DELETE FROM customer_tags WHERE customer_id = ?`,
		`DELETE FROM customers WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, customerID); err != nil {
			return nil, fmt.Errorf("erase customer %d: %w", customerID, err)
		}
	}
	return users, nil
}
