package engine

import (
	"tsunagu/internal/campaign"
	"tsunagu/internal/customer"
	"tsunagu/internal/erasure"
	"tsunagu/internal/survey"
)

// ErasureHooks are every feature's erasure hooks (package erasure runs them
// in its transaction): a feature that keeps a LINE user ID or customer data
// outside the tables erasure knows adds its hook here, so an APPI erasure
// leaves nothing behind whichever screen or command started it.
func (e *Engine) ErasureHooks() erasure.Hooks {
	h := customer.ErasureHooks()
	h.LineUser = append(h.LineUser,
		campaign.EraseLineUser,
		survey.EraseLineUser,
	)
	return h
}
