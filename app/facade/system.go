package facade

// SystemService: the app's state, version and updates.

// Status returns the current state. It is public (no guard): the UI needs
// it before sign-in, and it holds no customer data.
func (a *App) Status() Status {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.statusLocked()
}
