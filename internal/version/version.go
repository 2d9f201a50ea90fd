// Package version holds what the build stamped into the binary: the release
// version, the commit and the build date. The Makefile sets them with
//
//	-ldflags "-X tsunagu/internal/version.Version=... -X tsunagu/internal/version.Commit=... -X tsunagu/internal/version.Date=..."
//
// They are plain strings because -X can only set strings; they are written
// once at link time and never changed at run time.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
)

// Set at link time.
var (
	// Version is `git describe --tags --always --dirty` (e.g. v1.2.3,
	// v1.2.3-4-gabcdef0-dirty), or "dev" for an unstamped build.
	Version = "dev"
	// Commit is the full commit hash ("" when unknown).
	Commit = ""
	// Date is the build time, RFC 3339 UTC ("" when unknown).
	Date = ""
)

// Info is the build information shown by the About screen and
// `tsunagu-cli version`.
type Info struct {
	Version   string `json:"version"`
	Numeric   string `json:"numeric"` // x.y.z.w, "" if Version is not a release version
	Commit    string `json:"commit"`
	Date      string `json:"date"`
	GoVersion string `json:"goVersion"`
	Wails     string `json:"wails"` // the Wails module version linked in ("" in the CLI)
	OS        string `json:"os"`
	Arch      string `json:"arch"`
}

// Get returns the stamped build information.
func Get() Info {
	info := Info{
		Version:   Version,
		Commit:    Commit,
		Date:      Date,
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS,
		Arch:      runtime.GOARCH,
	}
	if n, err := Parse(Version); err == nil {
		info.Numeric = n.String()
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/wailsapp/wails/v2" {
				info.Wails = m.Version
			}
		}
		if info.Commit == "" {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					info.Commit = s.Value
				}
			}
		}
	}
	return info
}

// String is the one-line form printed by `tsunagu-cli version`.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tsunagu %s", i.Version)
	if i.Numeric != "" && i.Numeric != strings.TrimPrefix(i.Version, "v") {
		fmt.Fprintf(&b, " (%s)", i.Numeric)
	}
	fmt.Fprintf(&b, "\ncommit:  %s\nbuilt:   %s\ngo:      %s %s/%s", orUnknown(i.Commit), orUnknown(i.Date), i.GoVersion, i.OS, i.Arch)
	if i.Wails != "" {
		fmt.Fprintf(&b, "\nwails:   %s", i.Wails)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Number is a release version as four numbers, the form Windows keeps in a
// version resource (major.minor.patch.build). Release tags are vX.Y.Z; a
// build N commits after a tag is X.Y.Z.N, so it sorts after the tag and
// before the next one.
type Number [4]uint16

// Parse reads "1.2.3", "v1.2.3", "1.2.3.4" or a git describe string
// ("v1.2.3-4-gabcdef0", "v1.2.3-4-gabcdef0-dirty", "v1.2.3-dirty").
// Anything else (a bare commit hash, "dev") is an error: such a build has no
// release version and takes no part in updates.
func Parse(s string) (Number, error) {
	var n Number
	orig := s
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	s = strings.TrimSuffix(s, "-dirty")
	core, rest, hasRest := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) < 3 || len(parts) > 4 {
		return n, fmt.Errorf("version %q is not x.y.z or x.y.z.w", orig)
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 10, 16)
		if err != nil || p == "" || (len(p) > 1 && p[0] == '0') {
			return n, fmt.Errorf("version %q: part %q is not a number from 0 to 65535", orig, p)
		}
		n[i] = uint16(v)
	}
	if hasRest {
		// git describe: <tag>-<commits since tag>-g<hash>
		count, hash, ok := strings.Cut(rest, "-")
		v, err := strconv.ParseUint(count, 10, 16)
		if !ok || err != nil || len(parts) == 4 || !strings.HasPrefix(hash, "g") {
			return n, fmt.Errorf("version %q is not a release version", orig)
		}
		n[3] = uint16(v)
	}
	return n, nil
}

// MustParse is Parse for constants in tests.
func MustParse(s string) Number {
	n, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return n
}

// Compare returns -1, 0 or +1.
func (n Number) Compare(o Number) int {
	for i := range n {
		switch {
		case n[i] < o[i]:
			return -1
		case n[i] > o[i]:
			return 1
		}
	}
	return 0
}

// String is the x.y.z.w form.
func (n Number) String() string {
	return fmt.Sprintf("%d.%d.%d.%d", n[0], n[1], n[2], n[3])
}
