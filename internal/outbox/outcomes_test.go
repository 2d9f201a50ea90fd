package outbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"tsunagu/internal/line"
)

func TestStatus(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "sent"},
		{&line.APIError{Status: 400, Message: "The request body has 1 error(s)"}, "failed"},
		{&line.APIError{Status: 403}, "failed"},
		{&line.APIError{Status: 429}, "pending"},
		{&line.APIError{Status: 503}, "pending"},
		{fmt.Errorf("push: %w", line.ErrMonthlyLimit), "pending"},
		{context.DeadlineExceeded, "pending"},
		{errors.New("connection reset by peer"), "pending"},
	} {
		if got := Status(c.err); got != c.want {
			t.Errorf("Status(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	if ErrorText(nil) != "" {
		t.Fatal("nil error stored as text")
	}
	if got := ErrorText(errors.New("status 400")); got != "status 400" {
		t.Fatalf("short error changed: %q", got)
	}
	// 499 ASCII bytes then 3-byte runes: a cut at 500 bytes would split one.
	long := errors.New(strings.Repeat("a", 499) + strings.Repeat("送", 10))
	got := ErrorText(long)
	if len(got) > 500 || !utf8.ValidString(got) || got != strings.Repeat("a", 499) {
		t.Fatalf("long error cut to %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func TestRecordOutcomes(t *testing.T) {
	type oc struct {
		n   int
		err error
	}
	results := make(chan oc, 200)
	temp := &line.APIError{Status: 500}
	for i := range 150 {
		var err error
		switch i {
		case 3:
			err = temp
		case 100:
			err = line.ErrMonthlyLimit
		}
		results <- oc{i, err}
	}
	close(results)
	var written []int
	batches := 0
	first, werr := RecordOutcomes(t.Context(), results, func(o oc) error { return o.err }, func(ctx context.Context, b []oc) error {
		if len(b) == 0 || len(b) > 64 {
			t.Errorf("batch of %d", len(b))
		}
		batches++
		for _, o := range b {
			written = append(written, o.n)
		}
		return nil
	})
	if werr != nil || !errors.Is(first, line.ErrMonthlyLimit) {
		t.Fatalf("first error %v (want the monthly limit, which explains the stop), write error %v", first, werr)
	}
	if len(written) != 150 || batches < 3 {
		t.Fatalf("%d outcomes in %d batches, want 150 in at least 3", len(written), batches)
	}

	// A write error: nothing more is written, the rest is still taken.
	results = make(chan oc, 200)
	for i := range 150 {
		results <- oc{i, nil}
	}
	close(results)
	calls := 0
	_, werr = RecordOutcomes(t.Context(), results, func(o oc) error { return o.err }, func(context.Context, []oc) error {
		calls++
		return errors.New("disk full")
	})
	if werr == nil || calls != 1 || len(results) != 0 {
		t.Fatalf("write error %v after %d calls, %d left unread", werr, calls, len(results))
	}
}
