package update

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// source reads files from the one update location. It only ever opens a
// plain file name inside that location: a name with a separator, "..", a
// scheme or a host is refused, so a signed manifest cannot send the app
// anywhere else either.
type source interface {
	open(ctx context.Context, name string) (io.ReadCloser, error)
	String() string
}

// newSource parses a location: an https:// URL (a folder: the files are
// resolved below it) or a folder path (a mapped drive or a UNC path such as
// \\fileserver\tsunagu). Plain http is refused: the signature protects the
// manifest, but TLS keeps the check from being trivially blocked or faked
// into "up to date".
func newSource(location string, client *http.Client) (source, error) {
	location = strings.TrimSpace(location)
	if location == "" {
		return nil, ErrNotConfigured
	}
	if u, err := url.Parse(location); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
		if u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%w: location %q must be an https:// URL without user, query or fragment, or a folder path", ErrBadPolicy, location)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		return newHTTPSource(u, client), nil
	}
	if !filepath.IsAbs(location) {
		return nil, fmt.Errorf("%w: location %q is neither an https:// URL nor an absolute folder path", ErrBadPolicy, location)
	}
	return dirSource{dir: filepath.Clean(location)}, nil
}

// checkName accepts only a plain file name.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\:`) ||
		strings.ContainsRune(name, 0) || strings.HasPrefix(name, ".") || filepath.Base(name) != name {
		return fmt.Errorf("%w: %q is not a plain file name", ErrOutsideLocation, name)
	}
	return nil
}

type dirSource struct{ dir string }

func (s dirSource) String() string { return s.dir }

func (s dirSource) open(_ context.Context, name string) (io.ReadCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join(s.dir, name))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrUnreachable, name)
	}
	return f, nil
}

type httpSource struct {
	base   *url.URL
	client *http.Client
}

func newHTTPSource(base *url.URL, client *http.Client) httpSource {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Minute}
	}
	c := *client
	// Follow a redirect only within the location (same host, below the
	// folder, https): a compromised web server cannot bounce the app to
	// another site.
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !within(base, req.URL) {
			return fmt.Errorf("%w: redirect to %s", ErrOutsideLocation, req.URL.Redacted())
		}
		return nil
	}
	return httpSource{base: base, client: &c}
}

func within(base, u *url.URL) bool {
	return u.Scheme == "https" && strings.EqualFold(u.Host, base.Host) && u.User == nil &&
		strings.HasPrefix(path.Clean(u.Path)+"/", base.Path) && path.Clean(u.Path) != path.Clean(base.Path)
}

func (s httpSource) String() string { return s.base.Redacted() }

func (s httpSource) open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	u := s.base.JoinPath(name)
	if !within(s.base, u) {
		return nil, fmt.Errorf("%w: %s", ErrOutsideLocation, name)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrOutsideLocation) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: GET %s: %s", ErrUnreachable, name, resp.Status)
	}
	return resp.Body, nil
}

// readAll reads a small file, failing if it is larger than limit.
func readAll(ctx context.Context, src source, name string, limit int64) ([]byte, error) {
	rc, err := src.open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v", ErrUnreachable, name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrBadManifest, name, limit)
	}
	return b, nil
}
