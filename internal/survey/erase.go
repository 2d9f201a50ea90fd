package survey

import (
	"context"
	"database/sql"
	"fmt"
)

// EraseLineUser deletes a LINE user's survey runs, tokens and answers. It is
// an erasure hook (erasure.Hooks.LineUser), so an APPI erasure removes them
// in its transaction even where no foreign key would (tokens name the user
// in a column of their own).
func EraseLineUser(ctx context.Context, tx *sql.Tx, lineUserID string) error {
	for _, q := range []string{
		`DELETE FROM survey_tokens WHERE line_user_id = ?`,
		`DELETE FROM survey_answers WHERE line_user_id = ?`,
		`DELETE FROM survey_sessions WHERE line_user_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, lineUserID); err != nil {
			return fmt.Errorf("survey: erase: %w", err)
		}
	}
	return nil
}
