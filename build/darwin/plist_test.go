package darwin

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"text/template"
)

// renderPlist fills Info.plist the way `wails build` does (text/template
// with its "xml" function over the staged wails.json's data).
func renderPlist(t *testing.T, productVersion, comments string) []byte {
	t.Helper()
	src, err := os.ReadFile("Info.plist")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := template.New("").Funcs(template.FuncMap{
		"xml":          func(s string) string { var b bytes.Buffer; template.HTMLEscape(&b, []byte(s)); return b.String() },
		"safeBundleID": func(s string) string { return strings.ToLower(s) },
	}).Parse(string(src))
	if err != nil {
		t.Fatalf("Info.plist is not a valid template: %v", err)
	}
	type info struct{ ProductName, ProductVersion, Comments, Copyright string }
	data := struct {
		Name, OutputFilename string
		Info                 info
	}{"Tsunagu", "Tsunagu", info{"つなぐ Tsunagu", productVersion, comments, "Tsunagu & co"}}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// parsePlist reads the top-level dict of an XML plist into key → value
// (strings; <true/> and <false/> as "true"/"false"; arrays joined by ",").
func parsePlist(t *testing.T, b []byte) map[string]string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	out := map[string]string{}
	var key string
	depth, inArray := 0, false
	var array []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Info.plist is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			switch el.Name.Local {
			case "key":
				var s string
				if err := dec.DecodeElement(&s, &el); err != nil {
					t.Fatal(err)
				}
				depth--
				key = s
			case "string":
				var s string
				if err := dec.DecodeElement(&s, &el); err != nil {
					t.Fatal(err)
				}
				depth--
				if inArray {
					array = append(array, s)
				} else {
					out[key] = s
				}
			case "true", "false":
				out[key] = el.Name.Local
			case "array":
				inArray, array = true, nil
			}
		case xml.EndElement:
			depth--
			if el.Name.Local == "array" {
				out[key] = strings.Join(array, ",")
				inArray = false
			}
		}
	}
	return out
}

func TestInfoPlist(t *testing.T) {
	p := parsePlist(t, renderPlist(t, "1.4.2", "Tsunagu v1.4.2-3-gabcdef0"))
	want := map[string]string{
		"CFBundlePackageType":        "APPL",
		"CFBundleIdentifier":         "jp.tsunagu.desktop",
		"CFBundleExecutable":         "Tsunagu",
		"CFBundleName":               "Tsunagu",
		"CFBundleDisplayName":        "つなぐ Tsunagu",
		"CFBundleShortVersionString": "1.4.2",
		"CFBundleVersion":            "1.4.2",
		"CFBundleGetInfoString":      "Tsunagu v1.4.2-3-gabcdef0",
		"CFBundleIconFile":           "iconfile",
		"CFBundleLocalizations":      "ja,en",
		"LSMinimumSystemVersion":     "10.15.0",
		"NSHighResolutionCapable":    "true",
		"NSHumanReadableCopyright":   "Tsunagu & co", // escaped in the XML, read back intact
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	ent, err := os.ReadFile("entitlements.plist")
	if err != nil {
		t.Fatal(err)
	}
	parsePlist(t, ent) // well-formed
}

// The script's dry run prints every step, and only the steps the
// environment asks for.
func TestPackageDryRun(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	run := func(env ...string) string {
		cmd := exec.Command("bash", "package.sh", "--dry-run")
		cmd.Env = append(os.Environ(), "VERSION=v1.4.2-3-gabcdef0", "NUMVER=1.4.2.3", "MACOS_SIGN_IDENTITY=", "NOTARY_PROFILE=")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("dry run: %v\n%s", err, out)
		}
		return string(out)
	}
	order := func(out string, steps ...string) {
		t.Helper()
		at := 0
		for _, s := range steps {
			i := strings.Index(out[at:], s)
			if i < 0 {
				t.Fatalf("step %q missing (or out of order) in:\n%s", s, out)
			}
			at += i + len(s)
		}
	}
	signed := run("MACOS_SIGN_IDENTITY=Developer ID Application: Test (ABCDE12345)", "NOTARY_PROFILE=tsunagu-notary")
	order(signed,
		"PRODUCT_VERSION=1.4.2 ",
		"build -platform darwin/universal",
		"lipo -create",
		"codesign --force --options runtime --timestamp --entitlements",
		"codesign --verify --strict",
		"hdiutil create -volname Tsunagu",
		"Tsunagu-v1.4.2-3-gabcdef0-macos-universal.dmg",
		"xcrun notarytool submit",
		"--keychain-profile tsunagu-notary --wait",
		"xcrun stapler staple",
	)
	unsigned := run()
	order(unsigned, "build -platform darwin/universal", "hdiutil create")
	for _, s := range []string{"codesign", "notarytool"} {
		if strings.Contains(unsigned, "+ "+s) || strings.Contains(unsigned, "xcrun "+s) {
			t.Errorf("unsigned dry run runs %s:\n%s", s, unsigned)
		}
	}
	if !strings.Contains(unsigned, "unsigned") {
		t.Errorf("the unsigned dry run does not say so:\n%s", unsigned)
	}
	cmd := exec.Command("bash", "package.sh", "--dry-run")
	cmd.Env = append(os.Environ(), "VERSION=v1", "NUMVER=1.0.0.0", "MACOS_SIGN_IDENTITY=", "NOTARY_PROFILE=only-notary")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("notarizing without a signing identity was accepted:\n%s", out)
	}
}
