package facade

// SystemService: the app's state, version and updates (update.go).

// Status returns the current state. It is public (no guard): the UI needs
// it before sign-in, and it holds no customer data.
func (s *SystemService) Status() Status { return s.a.status() }

// status is Status for the facade's own use (channel.go), with this
// client's staff member.
func (c *Client) status() Status { return c.withStaff(c.App.status()) }

// status is the state every client shares.
func (a *App) status() Status {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.statusLocked()
}

// RetryStart starts the engine again if it is not running (the start error
// screen's 再試行: meanwhile the keychain may have been unlocked or the key
// restored from the CLI), and returns the new state; a failure is in
// Status.Error. It is public like Status: while the engine is not running
// nobody can sign in, and a running engine is left alone.
func (s *SystemService) RetryStart() Status {
	a := s.a
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.eng != nil {
		return a.withStaff(a.statusLocked())
	}
	st, _ := a.restartLocked() // the error is st.Error, already logged
	return a.withStaff(st)
}
