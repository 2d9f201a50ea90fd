package inbox

import (
	"context"
	"strings"

	"tsunagu/internal/customer"
)

// SearchCannedReplies lists the canned replies whose title or text holds
// every word of q, in their order; all of them for a blank q. Both sides go
// through customer.NormalizeText, the one text normaliser the customer and
// inbox searches use (full-width ＡＢＣ finds ABC, half-width ｶﾅ finds カナ),
// and case is ignored, so the picker finds what the clerk expects whatever
// the IME produced.
func (ib *Inbox) SearchCannedReplies(ctx context.Context, q string) ([]CannedReply, error) {
	all, err := ib.CannedReplies(ctx)
	if err != nil {
		return nil, err
	}
	words := strings.Fields(cannedFold(q))
	if len(words) == 0 {
		return all, nil
	}
	out := []CannedReply{}
	for _, c := range all {
		hay := cannedFold(c.Title + "\n" + c.Body)
		match := true
		for _, w := range words {
			if !strings.Contains(hay, w) {
				match = false
				break
			}
		}
		if match {
			out = append(out, c)
		}
	}
	return out, nil
}

func cannedFold(s string) string { return strings.ToLower(customer.NormalizeText(s)) }
