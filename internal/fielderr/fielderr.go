// Package fielderr is how a validator says which field is wrong and why, so
// that the screen can mark that field instead of showing a general "check
// the form". A validator in internal/<feature> returns its own sentinel
// (campaign.ErrInvalid, which still picks the message code) together with
// one or more FieldErrors; internal/msgcode carries them to the UI next to
// the code. It imports nothing of Tsunagu so that every feature can use it.
package fielderr

import (
	"errors"
	"fmt"
	"strings"
)

// The codes of what is wrong with a field. Each is a message code with a
// ja/en catalog entry (msgcode.Codes lists them, a frontend test checks the
// catalogs); the UI puts it under the field, after the field's own label.
const (
	Required    = "errors.fieldRequired"    // empty
	TooLong     = "errors.fieldTooLong"     // more than Max characters
	TooMany     = "errors.fieldTooMany"     // more than Max entries
	OneLine     = "errors.fieldOneLine"     // holds a line break
	HTTPS       = "errors.fieldHttps"       // must be an https: URL
	LinkScheme  = "errors.fieldLinkScheme"  // must start with https:, tel: or line:
	Choose      = "errors.fieldChoose"      // nothing (or something unknown) chosen
	Taken       = "errors.fieldTaken"       // the name is in use
	Outside     = "errors.fieldOutside"     // a tap area reaches outside the image
	Overlap     = "errors.fieldOverlap"     // two tap areas overlap
	Format      = "errors.fieldFormat"      // not in the expected form (address, number, time)
	SMSParts    = "errors.fieldSmsParts"    // an SMS longer than Max parts
	Range       = "errors.fieldRange"       // the end of a range is before its start
	AtMost      = "errors.fieldAtMost"      // a number above Max
	TooShort    = "errors.fieldTooShort"    // fewer than Min characters
	Loopback    = "errors.fieldLoopback"    // allowed only towards this PC (an unencrypted connection)
	Between     = "errors.fieldBetween"     // a number outside Min..Max (an emptied number box arrives as 0)
	AbsPath     = "errors.fieldAbsPath"     // a folder that is not a full path (C:\...)
	NoSpaces    = "errors.fieldNoSpaces"    // a key or token with a space or line break inside
	Refused     = "errors.fieldRefused"     // a one-time code the other side refused (wrong, used or expired)
	Unreachable = "errors.fieldUnreachable" // no answer from the address given
	NotPrimary  = "errors.fieldNotPrimary"  // something answers at the address, but not the branch's primary
	SpanOverlap = "errors.fieldSpanOverlap" // a span of hours overlaps another of the same day
	Placeholder = "errors.fieldPlaceholder" // a {…} the text's placeholders do not include
)

// Codes lists every field code, for the registry's list of codes.
func Codes() []string {
	return []string{Required, TooLong, TooMany, OneLine, HTTPS, LinkScheme, Choose, Taken, Outside, Overlap, Format, SMSParts, Range, AtMost, TooShort, Loopback, Between, AbsPath, NoSpaces, Refused, Unreachable, NotPrimary, SpanOverlap, Placeholder}
}

// FieldError is one wrong field. Field is a dotted path in the JSON names
// of the value the UI sent ("email.subject", "areas.1.action.uri": indexes
// count from 0); the UI maps it to its form item and visible label.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	// Max is the limit for TooLong, TooMany, SMSParts, AtMost and Between.
	Max int `json:"max,omitempty"`
	// Min is the least for TooShort and Between.
	Min int `json:"min,omitempty"`
}

// Error is one or more wrong fields. Its text is for logs: paths and codes,
// never the values (they may be customer data).
type Error struct {
	Fields []FieldError
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + strings.TrimPrefix(f.Code, "errors.field")
		if f.Max > 0 {
			parts[i] += fmt.Sprintf(" (max %d)", f.Max)
		}
		if f.Min > 0 {
			parts[i] += fmt.Sprintf(" (min %d)", f.Min)
		}
	}
	return "fields " + strings.Join(parts, ", ")
}

// List collects the wrong fields of one validation, so that a form with
// several mistakes shows all of them at once.
type List struct{ fields []FieldError }

// Add records field as wrong with code.
func (l *List) Add(field, code string) {
	l.fields = append(l.fields, FieldError{Field: field, Code: code})
}

// AddMax records field as wrong with code and its limit.
func (l *List) AddMax(field, code string, limit int) {
	l.fields = append(l.fields, FieldError{Field: field, Code: code, Max: limit})
}

// AddMin records field as too short with its least length.
func (l *List) AddMin(field string, least int) {
	l.fields = append(l.fields, FieldError{Field: field, Code: TooShort, Min: least})
}

// AddBetween records a number field as outside lo..hi (both allowed).
func (l *List) AddBetween(field string, lo, hi int) {
	l.fields = append(l.fields, FieldError{Field: field, Code: Between, Min: lo, Max: hi})
}

// Merge adds the wrong fields err carries and reports whether it carried
// any (false: err is some other failure, for the caller to return).
func (l *List) Merge(err error) bool {
	fields := Fields(err)
	l.fields = append(l.fields, fields...)
	return len(fields) > 0
}

// Len is the number of wrong fields so far.
func (l *List) Len() int { return len(l.fields) }

// Err is nil without wrong fields, else sentinel wrapped with them.
func (l *List) Err(sentinel error) error {
	if len(l.fields) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", sentinel, &Error{Fields: append([]FieldError(nil), l.fields...)})
}

// New is sentinel with one wrong field.
func New(sentinel error, field, code string) error {
	var l List
	l.Add(field, code)
	return l.Err(sentinel)
}

// NewMax is sentinel with one wrong field and its limit.
func NewMax(sentinel error, field, code string, limit int) error {
	var l List
	l.AddMax(field, code, limit)
	return l.Err(sentinel)
}

// Fields returns the wrong fields err carries, nil if none.
func Fields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Under puts err's fields below prefix ("areas.1" + "action.uri"): a
// validator of a part (one tap action) does not know where its part sits.
// A field "" is the part itself: it becomes prefix.
// err is returned unchanged when it carries no fields; otherwise the result
// still matches every error err wraps.
func Under(prefix string, err error) error {
	fields := Fields(err)
	if fields == nil {
		return err
	}
	moved := make([]FieldError, len(fields))
	for i, f := range fields {
		if f.Field == "" {
			f.Field = prefix
		} else {
			f.Field = prefix + "." + f.Field
		}
		moved[i] = f
	}
	return &under{prefix: prefix, err: err, fields: &Error{Fields: moved}}
}

type under struct {
	prefix string
	err    error
	fields *Error
}

func (u *under) Error() string { return u.prefix + ": " + u.err.Error() }

// Unwrap lists the moved fields first, so errors.As finds them before the
// part's own.
func (u *under) Unwrap() []error { return []error{u.fields, u.err} }
