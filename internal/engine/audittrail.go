package engine

import "tsunagu/internal/audit"

// AuditTrail is this data folder's audit trail (the viewer, exports, and
// entries for changes outside the DB). It holds no state, so a fresh value
// per call is as good as a kept one.
func (e *Engine) AuditTrail() *audit.Trail { return audit.NewTrail(e.db, e.clock) }
