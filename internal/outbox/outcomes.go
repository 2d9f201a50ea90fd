package outbox

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"tsunagu/internal/line"
)

// The rules for what a LINE request's outcome means, shared by every sender
// that stores its requests (the outbox, campaigns): one place decides what is
// retried with the same key and what is final.

// Status is the stored status of a request after an attempt: "sent", or
// "pending" while it may or may not have reached LINE (or was refused only
// for now) and is resent with its retry key, or "failed" for a final refusal.
func Status(err error) string {
	switch {
	case err == nil:
		return "sent"
	case uncertain(err):
		return "pending"
	default:
		return "failed"
	}
}

// uncertain reports whether a failed request may or may not have reached
// LINE, or was refused only for now. Any other 4xx is final.
func uncertain(err error) bool {
	if errors.Is(err, line.ErrMonthlyLimit) {
		return true // refused before processing; resend next month
	}
	var apiErr *line.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Temporary()
	}
	// No answer: a timeout, a dropped connection, a cancelled context.
	return true
}

// ErrorText is what is stored of an error (at most 500 bytes, cut on a rune
// boundary). It is for errors that hold no message content or tokens, as
// line's and the senders' own do.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) <= 500 {
		return s
	}
	n := 500
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// RecordOutcomes takes outcomes from results until it is closed and writes
// them in batches (whatever has arrived, up to 64, in one transaction), so
// that the single DB writer never paces LINE. errOf gives an outcome's error.
// It returns the first error LINE gave (the monthly limit first: it explains
// the whole stop) and the first write error; after a write error the rest is
// drained without writing. Outcomes LINE gave are written even when ctx has
// just ended.
func RecordOutcomes[T any](ctx context.Context, results <-chan T, errOf func(T) error, record func(context.Context, []T) error) (firstErr, writeErr error) {
	note := func(err error) {
		if err != nil && (firstErr == nil || errors.Is(err, line.ErrMonthlyLimit)) {
			firstErr = err
		}
	}
	batch := make([]T, 0, 64)
	for oc := range results {
		note(errOf(oc))
		batch = append(batch, oc)
	drain:
		for len(batch) < cap(batch) {
			select {
			case more, ok := <-results:
				if !ok {
					break drain
				}
				note(errOf(more))
				batch = append(batch, more)
			default:
				break drain
			}
		}
		if writeErr == nil {
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			writeErr = record(wctx, batch)
			cancel()
		}
		batch = batch[:0]
	}
	return firstErr, writeErr
}
