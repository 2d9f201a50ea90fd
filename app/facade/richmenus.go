package facade

import (
	"context"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/richmenu"
)

// Per-segment rich menus (issue 11). Designing, assigning, publishing and
// syncing are settings of the official account: PermSettings. The sandbox
// phone's view of a simulated customer's menu is PermSandbox (sandbox.go).

// RichMenuDesigns lists the designs.
func (s *RichMenuService) RichMenuDesigns() ([]richmenu.Design, error) {
	return richCall(s.a, func(ctx context.Context, _ auth.Staff, svc *richmenu.Service) ([]richmenu.Design, error) {
		return svc.Designs(ctx)
	})
}

// RichMenuTemplates lists the built-in layouts.
func (s *RichMenuService) RichMenuTemplates() ([]richmenu.Template, error) {
	return call(s.a, auth.PermSettings, func(context.Context, auth.Staff, *engine.Engine) ([]richmenu.Template, error) {
		return richmenu.Templates(), nil
	})
}

// SaveRichMenuDesign creates (ID 0) or updates a design; audited.
func (s *RichMenuService) SaveRichMenuDesign(d richmenu.Design) (richmenu.Design, error) {
	return richCall(s.a, func(ctx context.Context, st auth.Staff, svc *richmenu.Service) (richmenu.Design, error) {
		return svc.SaveDesign(ctx, st.Actor(), d)
	})
}

// DeleteRichMenuDesign deletes an unassigned design; audited.
func (s *RichMenuService) DeleteRichMenuDesign(id int64) error {
	_, err := richCall(s.a, func(ctx context.Context, st auth.Staff, svc *richmenu.Service) (struct{}, error) {
		return struct{}{}, svc.DeleteDesign(ctx, st.Actor(), id)
	})
	return err
}

// RichMenuImage returns a design's image as a data: URL ("" if none).
func (s *RichMenuService) RichMenuImage(id int64) (string, error) {
	return richCall(s.a, func(ctx context.Context, _ auth.Staff, svc *richmenu.Service) (string, error) {
		return svc.ImageURL(ctx, id)
	})
}

// UploadRichMenuImage stores a design's image sent as base64 (optionally a
// data: URL); checked for type, size and dimensions; audited.
func (s *RichMenuService) UploadRichMenuImage(id int64, data string) (richmenu.Design, error) {
	return richCall(s.a, func(ctx context.Context, st auth.Staff, svc *richmenu.Service) (richmenu.Design, error) {
		return svc.SetImageBase64(ctx, st.Actor(), id, data)
	})
}

// UsePlaceholderRichMenuImage gives a design a generated image: a numbered
// coloured tile per tap area, to try a menu before its artwork exists.
func (s *RichMenuService) UsePlaceholderRichMenuImage(id int64) (richmenu.Design, error) {
	return richCall(s.a, func(ctx context.Context, st auth.Staff, svc *richmenu.Service) (richmenu.Design, error) {
		return svc.SetPlaceholderImage(ctx, st.Actor(), id)
	})
}

// RichMenuAssignments returns the segment rules and the default menu.
func (s *RichMenuService) RichMenuAssignments() (richmenu.Assignments, error) {
	return richCall(s.a, func(ctx context.Context, _ auth.Staff, svc *richmenu.Service) (richmenu.Assignments, error) {
		return svc.Assignments(ctx)
	})
}

// SaveRichMenuAssignments replaces the rules and default; audited.
func (s *RichMenuService) SaveRichMenuAssignments(as richmenu.Assignments) error {
	_, err := richCall(s.a, func(ctx context.Context, st auth.Staff, svc *richmenu.Service) (struct{}, error) {
		return struct{}{}, svc.SetAssignments(ctx, st.Actor(), as)
	})
	return err
}

// RichMenuPublishResult is what PublishRichMenus did (richmenu.PublishSync
// under the contract's name).
type RichMenuPublishResult richmenu.PublishSync

// PublishRichMenus puts the assigned designs on LINE and moves every
// friend to their menu; audited.
func (s *RichMenuService) PublishRichMenus() (RichMenuPublishResult, error) {
	return richCall(s.a, func(ctx context.Context, st auth.Staff, svc *richmenu.Service) (RichMenuPublishResult, error) {
		res, err := svc.PublishAndSync(ctx, st.Actor())
		return RichMenuPublishResult(res), err
	})
}

// SyncRichMenus moves friends whose segment changed to their menu now;
// audited.
func (s *RichMenuService) SyncRichMenus() (richmenu.Run, error) {
	return richCall(s.a, func(ctx context.Context, st auth.Staff, svc *richmenu.Service) (richmenu.Run, error) {
		return svc.Sync(ctx, st.Actor(), true)
	})
}

// RichMenuStatus reports the last sync and users per menu.
func (s *RichMenuService) RichMenuStatus() (richmenu.Status, error) {
	return richCall(s.a, func(ctx context.Context, _ auth.Staff, svc *richmenu.Service) (richmenu.Status, error) {
		return svc.Status(ctx)
	})
}

// richCall is call(PermSettings) for the engine's rich menu service, which
// runs only with LINE (richmenu.ErrNoLine otherwise).
func richCall[T any](a *Client, fn func(ctx context.Context, st auth.Staff, svc *richmenu.Service) (T, error)) (T, error) {
	return call(a, auth.PermSettings, func(ctx context.Context, st auth.Staff, eng *engine.Engine) (T, error) {
		svc := eng.RichMenus()
		if svc == nil {
			var zero T
			return zero, richmenu.ErrNoLine
		}
		return fn(ctx, st, svc)
	})
}

// PhoneRichMenu is the rich menu a simulated customer's phone shows
// (SandboxRichMenu, sandbox.go).
type PhoneRichMenu struct {
	Shown       bool            `json:"shown"`
	Width       int             `json:"width"`
	Height      int             `json:"height"`
	ChatBarText string          `json:"chatBarText"`
	Selected    bool            `json:"selected"`
	Image       string          `json:"image"` // data: URL
	Areas       []richmenu.Area `json:"areas"`
}

// dataURL is kept for sandbox.go.
func dataURL(typ string, data []byte) string { return richmenu.DataURL(typ, data) }
