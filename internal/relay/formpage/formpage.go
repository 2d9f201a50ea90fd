// Package formpage holds the web form page the relay serves (issue 21):
// built from frontend/forms-page by `make forms-page` into form.js and
// form.css here, and embedded in the relay binary. Vanilla TypeScript, no
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
