package facade

import (
	"strings"
	"unicode/utf8"

	"tsunagu/internal/inbox"
)

// Masking for roles whose st.Role.Masked() is true (the agency role): they
// see that something exists and how much (counts, kinds, times, states) but
// not who or what: names, phones, emails, LINE IDs, pictures and message
// bodies are replaced in every result. Apply it in the facade, after the
// query, so no feature can forget it in one of its screens.

// Mask is the placeholder shown instead of personal data.
const Mask = "＊＊＊"

// MaskName hides a person's name.
func MaskName(s string) string {
	if s == "" {
		return ""
	}
	return Mask
}

// MaskPhone keeps only the last two digits (enough to tell two numbers apart
// in a count, not to call anyone).
func MaskPhone(s string) string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	if len(digits) < 6 {
		return MaskName(s)
	}
	return strings.Repeat("*", len(digits)-2) + digits[len(digits)-2:]
}

// MaskEmail keeps only the domain's top level (e.g. "＊＊＊@＊＊＊.jp").
func MaskEmail(s string) string {
	if s == "" {
		return ""
	}
	if i := strings.LastIndexByte(s, '.'); i > 0 && strings.Contains(s, "@") && utf8.RuneCountInString(s[i:]) <= 5 {
		return Mask + "@" + Mask + s[i:]
	}
	return Mask
}

// MaskBody hides a message body but keeps whether there was one.
func MaskBody(s string) string { return MaskName(s) }

func maskConversations(list []inbox.Conversation) []inbox.Conversation {
	out := make([]inbox.Conversation, len(list))
	for i, c := range list {
		c.DisplayName = MaskName(c.DisplayName)
		c.LineUserID = MaskName(c.LineUserID)
		c.PictureURL = ""
		c.LastPreview = MaskBody(c.LastPreview)
		out[i] = c
	}
	return out
}

func maskMessages(list []inbox.Message) []inbox.Message {
	out := make([]inbox.Message, len(list))
	for i, m := range list {
		m.Body = MaskBody(m.Body)
		m.SentBy = MaskName(m.SentBy)
		out[i] = m
	}
	return out
}
