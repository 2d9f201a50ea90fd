package facade

import (
	"fmt"
	"testing"

	"tsunagu/internal/line"
)

func TestLineCodes(t *testing.T) {
	monthly := fmt.Errorf("send 3: %w", fmt.Errorf("%w: %w", line.ErrMonthlyLimit, &line.APIError{Status: 429, Message: "You have reached your monthly limit."}))
	tests := []struct {
		err  error
		want string
	}{
		// The monthly limit wraps LINE's 429; its own wording wins over
		// the generic send failure.
		{monthly, codeMonthlyLimit},
		{fmt.Errorf("campaign: %w", line.ErrQuotaExceeded), codeQuotaExceeded},
		{fmt.Errorf("send: %w", &line.APIError{Status: 429, Message: "The API rate limit has been exceeded. Try again later."}), codeSendFailed},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
