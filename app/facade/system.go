package facade

// SystemService: the app's state, version and updates (update.go).

// Status returns the current state. It is public (no guard): the UI needs
// it before sign-in, and it holds no customer data.
func (s *SystemService) Status() Status { return s.a.status() }

// status is Status for the facade's own use (channel.go).
func (a *App) status() Status {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.statusLocked()
}
