// Package formpage holds the web form page and the consultation booking
// page the relay serves (issue 21): built from frontend/forms-page by
// `make forms-page` into form.js, form.css, booking.js and booking.css
// here, and embedded in the relay binary. Vanilla TypeScript, no
// framework: it must stay small for a slow phone (a test measures it).
package formpage

import _ "embed"

//go:embed form.js
var script []byte

//go:embed form.css
var style []byte

// Script is the page's script (minified, the sealing code included).
func Script() []byte { return script }

// Style is the page's stylesheet.
func Style() []byte { return style }

//go:embed booking.js
var bookingScript []byte

//go:embed booking.css
var bookingStyle []byte

// BookingScript is the consultation booking page's script (its own entry,
// frontend/forms-page/src/booking.ts, sharing the sealing code).
func BookingScript() []byte { return bookingScript }

// BookingStyle is the booking page's stylesheet.
func BookingStyle() []byte { return bookingStyle }
