package forms_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"tsunagu/internal/forms"
	"tsunagu/internal/relay"
	"tsunagu/internal/segment"
)

// Segment conditions on web form answers (segment.KindForm), over answers
// taken in through intake: answered the form (and not), a choice answer
// one of given values, a multi answer including one; a friend who is not a
// customer is in no set; a question ID that is not one is refused.
func TestSegmentOnAnswers(t *testing.T) {
	e := newEnv(t, relay.Config{})
	ctx := context.Background()
	hanako := e.friend(t, "はなこ", "山田 花子", 7)
	e.friend(t, "じろう", "鈴木 次郎", 8) // linked, never answers
	taro := e.friend(t, "たろう", "", 0) // answers, not a customer
	f := publish(t, e)
	for i, u := range []string{hanako, taro} {
		tok, _ := e.sim.IssueIDToken(u, "")
		e.submit(t, f, e.seal(t, f, "sub-seg-00000000000"+strconv.Itoa(i), tok, goodAnswers()))
	}
	if got := e.drain(t); strings.Join(got, ",") != "stored,stored" {
		t.Fatalf("outcomes %v", got)
	}

	segs := segment.New(e.db, time.Now, forms.SegmentExtensions())
	id := strconv.FormatInt(f.ID, 10)
	count := func(not bool, c segment.Condition) int {
		t.Helper()
		c.Kind, c.Form = segment.KindForm, id
		n, err := segs.Count(ctx, segment.Node{Not: not, Cond: &c})
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		return n.Total
	}
	for _, tc := range []struct {
		name string
		not  bool
		c    segment.Condition
		want int
	}{
		{"answered", false, segment.Condition{}, 1},
		{"not answered", true, segment.Condition{}, 1},
		{"choice one of", false, segment.Condition{Question: "purpose", Values: []string{"資産運用", "住宅ローン"}}, 1},
		{"choice none of", false, segment.Condition{Question: "purpose", Values: []string{"保険の見直し"}}, 0},
		{"multi includes", false, segment.Condition{Question: "products", Values: []string{"iDeCo"}}, 1},
		{"multi lacks", false, segment.Condition{Question: "products", Values: []string{"外貨預金"}}, 0},
	} {
		if got := count(tc.not, tc.c); got != tc.want {
			t.Errorf("%s: %d customers, want %d", tc.name, got, tc.want)
		}
	}
	other := strconv.FormatInt(f.ID+1, 10)
	if n, err := segs.Count(ctx, segment.Node{Cond: &segment.Condition{Kind: segment.KindForm, Form: other}}); err != nil || n.Total != 0 {
		t.Errorf("another form: %+v %v", n, err)
	}
	_, err := segs.Count(ctx, segment.Node{Cond: &segment.Condition{Kind: segment.KindForm, Form: id, Question: `x"] OR 1`, Values: []string{"a"}}})
	if !errors.Is(err, segment.ErrInvalid) {
		t.Errorf("a forged question ID: %v", err)
	}
}
