package customer

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Numbers maps customer IDs to their customer numbers (顧客番号), for
// screens that name a customer recorded by ID (the audit trail's targets):
// people know the number, never the internal ID. Erased or unknown IDs are
// absent. Not audited: a number is no personal data beyond what the
// screen's own rights show.
func (s *Service) Numbers(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `SELECT id, customer_no FROM customers WHERE id IN (?` + strings.Repeat(",?", len(ids)-1) + `)`
	err := each(ctx, s.db.Reader(), q, args, func(r *sql.Rows) error {
		var id int64
		var no string
		if err := r.Scan(&id, &no); err != nil {
			return err
		}
		out[id] = no
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("customer numbers: %w", err)
	}
	return out, nil
}
