package inbox

import (
	"context"
	"strings"

	"tsunagu/internal/textfold"
)

// SearchCannedReplies lists the canned replies whose title or text holds
// every word of q; all of them for a blank q. Both sides are folded by
// textfold.Fold, the one normaliser of every search (full-width ＡＢＣ finds
// abc, half-width ｶﾅ and ひらがな find カナ, 髙 finds 高), so the picker finds
// what the clerk expects whatever the IME produced.
func (ib *Inbox) SearchCannedReplies(ctx context.Context, q string) ([]CannedReply, error) {
	all, err := ib.CannedReplies(ctx)
	if err != nil {
		return nil, err
	}
	// Words first: the fold drops spaces.
	var words []string
	for _, w := range strings.Fields(q) {
		if f := textfold.Fold(w); f != "" {
			words = append(words, f)
		}
	}
	if len(words) == 0 {
		return all, nil
	}
	out := []CannedReply{}
	for _, c := range all {
		hay := textfold.Fold(c.Title + "\n" + c.Body)
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
