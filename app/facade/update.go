package facade

import (
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/update"
	"tsunagu/internal/version"
)

// UpdateOptions wire the update check. All fields are optional.
type UpdateOptions struct {
	// Policy reads IT's update policy (nil: update.LoadPolicy, the
	// machine's admin-only policy).
	Policy func() (update.Policy, error)
	// HTTPClient for an https location (tests trust their server's CA).
	HTTPClient *http.Client
	// Launch starts the installer (nil: update.StartInstaller).
	Launch func(path string) error
	// Quit ends the app once the installer runs, so it can replace the
	// program files (the desktop passes the window's quit).
	Quit func()
}

// updates keeps the offer of the last check: InstallUpdate only ever runs
// an installer this process verified, never a path from the UI.
type updates struct {
	mu    sync.Mutex
	offer *update.Offer
}

// AboutInfo is the About screen.
type AboutInfo struct {
	version.Info
	DataDir          string `json:"dataDir"`
	UpdateConfigured bool   `json:"updateConfigured"`
	UpdateLocation   string `json:"updateLocation"`
	UpdatePolicyFrom string `json:"updatePolicyFrom"`
	UpdateError      string `json:"updateError"` // a message code if the policy is unusable
}

// UpdateCheck is the result of CheckForUpdate.
type UpdateCheck struct {
	Status  string        `json:"status"` // upToDate, available
	Current string        `json:"current"`
	Latest  string        `json:"latest"`
	Offer   *update.Offer `json:"offer,omitempty"`
}

// AppVersion returns the build information, the data folder and IT's update
// location.
func (a *App) AppVersion() (AboutInfo, error) {
	if _, err := a.require(auth.PermSession); err != nil {
		return AboutInfo{}, err
	}
	a.mu.RLock()
	dataDir := a.statusLocked().DataDir
	a.mu.RUnlock()
	info := AboutInfo{Info: version.Get(), DataDir: dataDir}
	if a.opts.Version != "" { // what the program was started as (main passes version.Version)
		info.Version, info.Numeric = a.opts.Version, ""
		if n, err := version.Parse(a.opts.Version); err == nil {
			info.Numeric = n.String()
		}
	}
	pol, err := a.updatePolicy()
	info.UpdatePolicyFrom = pol.From
	switch {
	case errors.Is(err, update.ErrNotConfigured):
	case err != nil:
		info.UpdateError = msgcode.Code(err)
	default:
		info.UpdateConfigured, info.UpdateLocation = true, pol.Location
	}
	return info, nil
}

// CheckForUpdate reads IT's update location. A newer, verified installer
// is offered; nothing is installed.
func (a *App) CheckForUpdate() (UpdateCheck, error) {
	if _, err := a.require(auth.PermSession); err != nil {
		return UpdateCheck{}, err
	}
	u, err := a.updater()
	if err != nil {
		return UpdateCheck{}, a.userError(err)
	}
	res, err := u.Check(a.context())
	a.upd.mu.Lock()
	a.upd.offer = res.Offer
	a.upd.mu.Unlock()
	if err != nil {
		return UpdateCheck{}, a.userError(err)
	}
	return UpdateCheck{Status: res.Status, Current: res.Current, Latest: res.Latest, Offer: res.Offer}, nil
}

// InstallUpdate starts the installer of the last check's offer (the user
// clicked "install") and quits the app. ver must be the offered version, so
// a stale screen cannot install something else.
func (a *App) InstallUpdate(ver string) error {
	st, _, eng, err := a.requireService(auth.PermSettings)
	if err != nil {
		return err
	}
	a.upd.mu.Lock()
	offer := a.upd.offer
	a.upd.mu.Unlock()
	if offer == nil || offer.Version != ver {
		return msgcode.New(msgcode.UpdateNoOffer)
	}
	u, err := a.updater()
	if err != nil {
		return a.userError(err)
	}
	if err := a.record(eng, audit.Entry{At: a.now(), Actor: st.Actor(), Action: update.ActionInstall, Target: offer.Version,
		Detail: map[string]string{"from": version.Version, "sha256": offer.SHA256}}); err != nil {
		return a.userError(err)
	}
	if err := u.Install(a.context(), *offer); err != nil {
		return a.userError(err)
	}
	if a.opts.Updates.Quit != nil {
		a.opts.Updates.Quit()
	}
	return nil
}

func (a *App) updatePolicy() (update.Policy, error) {
	if a.opts.Updates.Policy != nil {
		return a.opts.Updates.Policy()
	}
	return update.LoadPolicy()
}

func (a *App) updater() (*update.Updater, error) {
	pol, err := a.updatePolicy()
	if err != nil {
		return nil, err
	}
	a.mu.RLock()
	dataDir := a.statusLocked().DataDir
	a.mu.RUnlock()
	cur := version.Version
	if a.opts.Version != "" {
		cur = a.opts.Version
	}
	return update.New(update.Config{
		Policy: pol, Current: cur, StageDir: filepath.Join(dataDir, "updates"),
		HTTPClient: a.opts.Updates.HTTPClient, Launch: a.opts.Updates.Launch,
	})
}
