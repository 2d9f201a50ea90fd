package customer

import "github.com/nyaruka/phonenumbers"

// FormatPhone writes a Japanese phone number the way people read it, by the
// numbering plan's area-code lengths (libphonenumber's JP metadata):
// 0423831791 is 042-383-1791 (府中), 0429231234 is 04-2923-1234 (所沢). A
// fixed split by length cannot tell those apart. A number the plan does not
// know is shown as stored rather than split wrongly.
func FormatPhone(s string) string {
	d, err := NormalizePhone(s)
	if err != nil {
		return s
	}
	n, err := phonenumbers.Parse(d, "JP")
	if err != nil || !phonenumbers.IsValidNumberForRegion(n, "JP") {
		return s
	}
	return phonenumbers.Format(n, phonenumbers.NATIONAL)
}
