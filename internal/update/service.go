package update

import (
	"context"
	"errors"
	"sync"

	"tsunagu/internal/audit"
)

// ErrNoOffer: an install of a version this process did not verify and
// offer (no check yet, a failed check since, or a stale screen).
var ErrNoOffer = errors.New("update: no verified offer of this version")

// Service is a running app's update check. It keeps the offer of the last
// check, so Install only ever starts an installer this process verified,
// never a path or version from the UI.
type Service struct {
	config func() (Config, error)

	mu    sync.Mutex
	offer *Offer
}

// NewService returns a service that reads its Config (IT's policy, the
// running version, the stage folder) from config at every call: the policy
// may change while the app runs.
func NewService(config func() (Config, error)) *Service {
	return &Service{config: config}
}

// Check reads IT's update location. A newer, verified installer becomes
// the offer; a failed check withdraws the previous one. An unusable
// policy fails before anything is checked and keeps the offer.
func (s *Service) Check(ctx context.Context) (Result, error) {
	u, err := s.updater()
	if err != nil {
		return Result{}, err
	}
	res, err := u.Check(ctx)
	s.mu.Lock()
	s.offer = res.Offer
	s.mu.Unlock()
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// Install starts the installer of the offer if it is version ver (what
// the person accepted on screen). record writes the audit entry (actor,
// version, hash) first; if it fails, nothing starts.
func (s *Service) Install(ctx context.Context, actor, ver string, record func(context.Context, audit.Entry) error) error {
	s.mu.Lock()
	offer := s.offer
	s.mu.Unlock()
	if offer == nil || offer.Version != ver {
		return ErrNoOffer
	}
	u, err := s.updater()
	if err != nil {
		return err
	}
	if err := record(ctx, audit.Entry{Actor: actor, Action: ActionInstall, Target: offer.Version,
		Detail: map[string]string{"from": u.cfg.Current, "sha256": offer.SHA256}}); err != nil {
		return err
	}
	return u.Install(ctx, *offer)
}

func (s *Service) updater() (*Updater, error) {
	cfg, err := s.config()
	if err != nil {
		return nil, err
	}
	return New(cfg)
}
