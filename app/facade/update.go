package facade

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/msgcode"
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

// updates is the process's update service, made on first use: it keeps
// the last verified offer (update.Service).
type updates struct {
	once sync.Once
	svc  *update.Service
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

// UpdateCheck is the result of CheckForUpdate (update.Result under the
// contract's name).
type UpdateCheck update.Result

// AppVersion returns the build information, the data folder and IT's update
// location.
func (s *SystemService) AppVersion() (AboutInfo, error) {
	return call(s.a, auth.PermSession, func(context.Context, auth.Staff, *engine.Engine) (AboutInfo, error) {
		info := AboutInfo{Info: version.Get().As(s.a.opts.Version), DataDir: s.a.dataDir()}
		pol, err := s.a.updatePolicy()
		info.UpdatePolicyFrom = pol.From
		switch {
		case errors.Is(err, update.ErrNotConfigured):
		case err != nil:
			info.UpdateError = msgcode.Code(err)
		default:
			info.UpdateConfigured, info.UpdateLocation = true, pol.Location
		}
		return info, nil
	})
}

// CheckForUpdate reads IT's update location. A newer, verified installer
// is offered; nothing is installed.
func (s *SystemService) CheckForUpdate() (UpdateCheck, error) {
	return call(s.a, auth.PermSession, func(ctx context.Context, _ auth.Staff, _ *engine.Engine) (UpdateCheck, error) {
		res, err := s.a.updateService().Check(ctx)
		return UpdateCheck(res), err
	})
}

// InstallUpdate starts the installer of the last check's offer (the user
// clicked "install"), audited, and quits the app. ver must be the offered
// version, so a stale screen cannot install something else.
func (s *SystemService) InstallUpdate(ver string) error {
	err := run(s.a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return s.a.updateService().Install(ctx, st.Actor(), ver, eng.AuditTrail().Record)
	})
	if err == nil && s.a.opts.Updates.Quit != nil {
		s.a.opts.Updates.Quit()
	}
	return err
}

func (a *App) updateService() *update.Service {
	a.upd.once.Do(func() { a.upd.svc = update.NewService(a.updateConfig) })
	return a.upd.svc
}

// updateConfig is read at every check: IT may change the policy while the
// app runs, and the data folder is the running engine's.
func (a *App) updateConfig() (update.Config, error) {
	pol, err := a.updatePolicy()
	if err != nil {
		return update.Config{}, err
	}
	cur := version.Version
	if a.opts.Version != "" { // what the program was started as (main passes version.Version)
		cur = a.opts.Version
	}
	return update.Config{Policy: pol, Current: cur, StageDir: filepath.Join(a.dataDir(), "updates"),
		HTTPClient: a.opts.Updates.HTTPClient, Launch: a.opts.Updates.Launch}, nil
}

func (a *App) updatePolicy() (update.Policy, error) {
	if a.opts.Updates.Policy != nil {
		return a.opts.Updates.Policy()
	}
	return update.LoadPolicy()
}

func (a *App) dataDir() string { return a.status().DataDir }
