package linking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"tsunagu/internal/textfold"
)

// Candidate is a customer offered for linking a conversation: enough to
// tell two customers of the same name apart (birth date, the last digits of
// a phone) without showing a whole number, and whether the LINE name looks
// like the customer's.
type Candidate struct {
	ID         int64  `json:"id"`
	CustomerNo string `json:"customerNo"`
	Name       string `json:"name"`
	NameKana   string `json:"nameKana"`
	BirthDate  string `json:"birthDate"` // YYYY-MM-DD or ""
	Branch     string `json:"branch"`
	// PhoneTail is the last 4 digits of the customer's first phone or
	// mobile ("" without one): the rest stays hidden on this screen.
	PhoneTail  string `json:"phoneTail"`
	LineLinked bool   `json:"lineLinked"`
	// NameDiffers: the LINE display name is neither the customer's name
	// nor their kana (NameMatches), so the clerk is warned before linking.
	NameDiffers bool `json:"nameDiffers"`
}

// Candidates finds customers to link the conversation to (SearchCustomers)
// and compares each with the conversation's LINE name.
func (s *Service) Candidates(ctx context.Context, convID int64, query string) ([]Candidate, error) {
	user, _, err := s.ByConversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	display, err := s.DisplayName(ctx, user)
	if err != nil {
		return nil, err
	}
	found, err := s.SearchCustomers(ctx, strings.TrimSpace(query))
	if err != nil {
		return nil, err
	}
	out := make([]Candidate, 0, len(found))
	for _, c := range found {
		out = append(out, Candidate{
			ID: c.ID, CustomerNo: c.CustomerNo, Name: c.Name, NameKana: c.NameKana, BirthDate: c.BirthDate,
			Branch: c.Branch, PhoneTail: lastDigits(c.Phone, 4), LineLinked: c.LineLinked,
			NameDiffers: !NameMatches(display, c.Name, c.NameKana),
		})
	}
	return out, nil
}

// NameMatches reports whether a LINE display name is plausibly the
// customer's: compared as search keys (textfold.Fold), so 山崎/山﨑,
// 高橋/髙橋, widths and hiragana/katakana are no difference, against the
// name and the kana (a LINE name in kana, 「けんいち」, matches ケンイチ).
// Part of a name counts (a surname or a given name alone, 2 characters or
// more): people rarely put their full name on LINE. An empty LINE name
// matches (there is nothing to warn about).
func NameMatches(display, name, kana string) bool {
	d := textfold.Fold(display)
	if d == "" {
		return true
	}
	for _, v := range []string{name, kana} {
		k := textfold.Fold(v)
		if k == "" {
			continue
		}
		if d == k || (utf8.RuneCountInString(d) >= 2 && strings.Contains(k, d)) ||
			(utf8.RuneCountInString(k) >= 2 && strings.Contains(d, k)) {
			return true
		}
		// Surname or given name on its own in the display name.
		for _, part := range strings.Fields(textfold.Width(v)) {
			if p := textfold.Fold(part); utf8.RuneCountInString(p) >= 2 && strings.Contains(d, p) {
				return true
			}
		}
	}
	return false
}

func lastDigits(s string, n int) string {
	var d []rune
	for _, r := range s {
		if r >= '0' && r <= '9' {
			d = append(d, r)
		}
	}
	if len(d) <= n {
		return string(d)
	}
	return string(d[len(d)-n:])
}

// How the customer gave their consent to LINE messages when a clerk links
// them (recorded as the consent's source).
const (
	ConsentWritten = "written" // 書面
	ConsentVerbal  = "verbal"  // 口頭
	ConsentLINE    = "line"    // on LINE
	ConsentNone    = "none"    // not asked: the link records no consent
)

// ErrConsentChoice: the clerk did not say how (or whether) the customer
// consented when linking.
var ErrConsentChoice = errors.New("linking: choose how the customer consented (written, verbal, on LINE) or that they were not asked")

func checkConsent(c string) error {
	switch c {
	case ConsentWritten, ConsentVerbal, ConsentLINE, ConsentNone:
		return nil
	}
	return fmt.Errorf("%w: %q", ErrConsentChoice, c)
}
