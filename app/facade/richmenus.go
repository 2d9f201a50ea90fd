package facade

import (
	"encoding/base64"
	"strings"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/auth"
	"tsunagu/internal/engine"
	"tsunagu/internal/richmenu"
)

// Per-segment rich menus (issue 11). Designing, assigning, publishing and
// syncing are settings of the official account: PermSettings. The sandbox
// phone's view of a simulated customer's menu is PermSandbox.

// richMenus returns the engine's rich menu service after the guard.
func (a *App) richMenus(p auth.Permission) (auth.Staff, *richmenu.Service, *engine.Engine, error) {
	st, _, eng, err := a.requireService(p)
	if err != nil {
		return st, nil, nil, err
	}
	svc := eng.RichMenus()
	if svc == nil {
		return st, nil, nil, msgcode.New(msgcode.RichMenuOffline)
	}
	return st, svc, eng, nil
}

// RichMenuDesigns lists the designs.
func (a *App) RichMenuDesigns() ([]richmenu.Design, error) {
	_, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return nil, err
	}
	list, err := svc.Designs(a.context())
	return list, a.userError(err)
}

// RichMenuTemplates lists the built-in layouts.
func (a *App) RichMenuTemplates() ([]richmenu.Template, error) {
	if _, err := a.require(auth.PermSettings); err != nil {
		return nil, err
	}
	return richmenu.Templates(), nil
}

// SaveRichMenuDesign creates (ID 0) or updates a design; audited.
func (a *App) SaveRichMenuDesign(d richmenu.Design) (richmenu.Design, error) {
	st, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return richmenu.Design{}, err
	}
	out, err := svc.SaveDesign(a.context(), st.Actor(), d)
	return out, a.userError(err)
}

// DeleteRichMenuDesign deletes an unassigned design; audited.
func (a *App) DeleteRichMenuDesign(id int64) error {
	st, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return err
	}
	return a.userError(svc.DeleteDesign(a.context(), st.Actor(), id))
}

// RichMenuImage returns a design's image as a data: URL ("" if none).
func (a *App) RichMenuImage(id int64) (string, error) {
	_, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return "", err
	}
	img, typ, err := svc.Image(a.context(), id)
	if err != nil || len(img) == 0 {
		return "", a.userError(err)
	}
	return dataURL(typ, img), nil
}

// UploadRichMenuImage stores a design's image sent as base64 (optionally a
// data: URL); checked for type, size and dimensions; audited.
func (a *App) UploadRichMenuImage(id int64, data string) (richmenu.Design, error) {
	st, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return richmenu.Design{}, err
	}
	if i := strings.Index(data, ","); strings.HasPrefix(data, "data:") && i > 0 {
		data = data[i+1:]
	}
	// Base64 of 1 MB is about 1.4 MB; anything far larger is refused
	// before decoding.
	if len(data) > richmenu.MaxImageBytes*2 {
		return richmenu.Design{}, msgcode.New(msgcode.RichMenuInvalid)
	}
	img, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return richmenu.Design{}, msgcode.New(msgcode.RichMenuInvalid)
	}
	out, err := svc.SetImage(a.context(), st.Actor(), id, img)
	return out, a.userError(err)
}

// UsePlaceholderRichMenuImage gives a design a generated image: a numbered
// coloured tile per tap area, to try a menu before its artwork exists.
func (a *App) UsePlaceholderRichMenuImage(id int64) (richmenu.Design, error) {
	st, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return richmenu.Design{}, err
	}
	d, err := svc.Design(a.context(), id)
	if err != nil {
		return richmenu.Design{}, a.userError(err)
	}
	img, err := richmenu.Placeholder(d.Width, d.Height, d.Areas)
	if err != nil {
		return richmenu.Design{}, a.userError(err)
	}
	out, err := svc.SetImage(a.context(), st.Actor(), id, img)
	return out, a.userError(err)
}

// RichMenuAssignments returns the segment rules and the default menu.
func (a *App) RichMenuAssignments() (richmenu.Assignments, error) {
	_, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return richmenu.Assignments{}, err
	}
	out, err := svc.Assignments(a.context())
	return out, a.userError(err)
}

// SaveRichMenuAssignments replaces the rules and default; audited.
func (a *App) SaveRichMenuAssignments(as richmenu.Assignments) error {
	st, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return err
	}
	return a.userError(svc.SetAssignments(a.context(), st.Actor(), as))
}

// RichMenuPublishResult is what PublishRichMenus did: the publish and the
// sync that followed it.
type RichMenuPublishResult struct {
	Publish richmenu.PublishResult `json:"publish"`
	Sync    richmenu.Run           `json:"sync"`
}

// PublishRichMenus puts the assigned designs on LINE and moves every
// friend to their menu; audited.
func (a *App) PublishRichMenus() (RichMenuPublishResult, error) {
	st, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return RichMenuPublishResult{}, err
	}
	var res RichMenuPublishResult
	if res.Publish, err = svc.Publish(a.context(), st.Actor()); err != nil {
		return res, a.userError(err)
	}
	res.Sync, err = svc.Sync(a.context(), st.Actor(), true)
	return res, a.userError(err)
}

// SyncRichMenus moves friends whose segment changed to their menu now;
// audited.
func (a *App) SyncRichMenus() (richmenu.Run, error) {
	st, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return richmenu.Run{}, err
	}
	run, err := svc.Sync(a.context(), st.Actor(), true)
	return run, a.userError(err)
}

// RichMenuStatus reports the last sync and users per menu.
func (a *App) RichMenuStatus() (richmenu.Status, error) {
	_, svc, _, err := a.richMenus(auth.PermSettings)
	if err != nil {
		return richmenu.Status{}, err
	}
	st, err := svc.Status(a.context())
	return st, a.userError(err)
}

// PhoneRichMenu is the rich menu a simulated customer's phone shows.
type PhoneRichMenu struct {
	Shown       bool            `json:"shown"`
	Width       int             `json:"width"`
	Height      int             `json:"height"`
	ChatBarText string          `json:"chatBarText"`
	Selected    bool            `json:"selected"`
	Image       string          `json:"image"` // data: URL
	Areas       []richmenu.Area `json:"areas"`
}

func dataURL(typ string, data []byte) string {
	if len(data) == 0 {
		return ""
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(data)
}
