package facade

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/drafts"
	"tsunagu/internal/engine"
)

// Drafts (issue 19): what the signed-in staff member typed and has not sent
// or saved, kept in the encrypted DB so a lock, a sign-out or a restart
// loses nothing. Every method acts on the caller's own drafts only, so the
// session permission is enough; the screens that edit need their own.

// SaveDraft keeps the caller's draft of one editor (an empty body deletes it).
func (s *DraftService) SaveDraft(kind drafts.Kind, key, body string) (drafts.Draft, error) {
	return call(s.a, auth.PermSession, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (drafts.Draft, error) {
		return eng.Drafts().Save(ctx, st.ID, kind, key, body)
	})
}

// GetDraft returns the caller's draft of one editor (an empty body: none).
func (s *DraftService) GetDraft(kind drafts.Kind, key string) (drafts.Draft, error) {
	return call(s.a, auth.PermSession, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (drafts.Draft, error) {
		return eng.Drafts().Get(ctx, st.ID, kind, key)
	})
}

// ListDrafts returns the caller's drafts of one kind, newest first.
func (s *DraftService) ListDrafts(kind drafts.Kind) ([]drafts.Draft, error) {
	return call(s.a, auth.PermSession, func(ctx context.Context, st auth.Staff, eng *engine.Engine) ([]drafts.Draft, error) {
		return eng.Drafts().List(ctx, st.ID, kind)
	})
}

// DeleteDraft discards the caller's draft of one editor.
func (s *DraftService) DeleteDraft(kind drafts.Kind, key string) error {
	return run(s.a, auth.PermSession, func(ctx context.Context, st auth.Staff, eng *engine.Engine) error {
		return eng.Drafts().Delete(ctx, st.ID, kind, key)
	})
}
