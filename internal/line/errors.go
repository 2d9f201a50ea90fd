package line

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// ErrUnreachable means LINE will not let the official account see or reach
// the user: they blocked the account, are not a friend, never consented to
// share their profile, or the ID does not exist for this channel. LINE does
// not say which.
var ErrUnreachable = errors.New("user is unreachable (blocked, not a friend, or no consent)")

// APIError is a non-2xx answer from the Messaging API, decoded from LINE's
// JSON error body:
//
//	{"message": "...", "details": [{"message": "...", "property": "..."}]}
type APIError struct {
	Status    int      // HTTP status code
	Message   string   // LINE's "message"
	Details   []string // each detail as "property: message" (or just one of them)
	RequestID string   // x-line-request-id, for LINE support
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "status %d", e.Status)
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" (" + t + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if len(e.Details) > 0 {
		b.WriteString(" (" + strings.Join(e.Details, "; ") + ")")
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later: LINE asks
// clients to retry on 429 (rate or monthly limit) and 5xx, and never on
// other 4xx, which only a changed request can fix.
func (e *APIError) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// maxErrorBody bounds how much of an error body is decoded. LINE's error
// bodies are a few hundred bytes; anything larger is not one of them.
const maxErrorBody = 64 << 10

// newAPIError builds an APIError from a non-2xx response. The SDK has
// already read the body and put a copy back in res.Body. The body itself is
// never kept or put in the error: only LINE's message and details, which
// describe the request's shape, not its content.
func newAPIError(res *http.Response) *APIError {
	e := &APIError{
		Status:    res.StatusCode,
		RequestID: res.Header.Get("X-Line-Request-Id"),
	}
	if res.Body == nil {
		return e
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	if err != nil {
		return e
	}
	var body struct {
		Message string `json:"message"`
		Details []struct {
			Message  string `json:"message"`
			Property string `json:"property"`
		} `json:"details"`
	}
	if json.Unmarshal(data, &body) != nil {
		// Not LINE's JSON (a proxy's HTML page, say): the status alone
		// is all that can be trusted.
		return e
	}
	e.Message = body.Message
	for _, d := range body.Details {
		switch {
		case d.Property != "" && d.Message != "":
			e.Details = append(e.Details, d.Property+": "+d.Message)
		case d.Message != "":
			e.Details = append(e.Details, d.Message)
		case d.Property != "":
			e.Details = append(e.Details, d.Property)
		}
	}
	return e
}

// transportError wraps an error from sending a request. net/http puts the
// full URL in its errors, which for a profile request holds the user ID; it
// is dropped so errors can be logged, while the cause (a timeout, a
// cancelled context) stays reachable through errors.Is.
func transportError(op string, err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return fmt.Errorf("line: %s: %s request failed: %w", op, ue.Op, ue.Err)
	}
	return fmt.Errorf("line: %s: %w", op, err)
}
