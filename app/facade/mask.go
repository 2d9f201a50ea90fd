package facade

import "tsunagu/internal/mask"

// The masking rules live with the data (package mask and each feature's
// masked views). These forwarders remain only for campaigns.go and
// surveys.go (and campaigns_test.go) until they mask in their own packages; then this file goes.

// Mask is the placeholder shown instead of personal data.
const Mask = mask.Placeholder

// MaskName hides a person's name (mask.Name).
func MaskName(s string) string { return mask.Name(s) }

// MaskPhone keeps a phone number's last two digits (mask.Phone).
func MaskPhone(s string) string { return mask.Phone(s) }

// MaskEmail keeps an email's top-level domain (mask.Email).
func MaskEmail(s string) string { return mask.Email(s) }

// MaskBody hides a text but keeps whether there was one (mask.Body).
func MaskBody(s string) string { return mask.Body(s) }
