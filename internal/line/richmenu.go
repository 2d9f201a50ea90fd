package line

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/line/line-bot-sdk-go/v8/linebot/messaging_api"
)

// MaxRichMenuBulkUsers is how many user IDs one bulk link or unlink call
// takes.
const MaxRichMenuBulkUsers = 500

// ErrRichMenuNotFound means LINE does not know the rich menu (or, for
// RichMenuOfUser, the user has no per-user menu).
var ErrRichMenuNotFound = errors.New("line: rich menu not found")

// RichMenu is a rich menu as created on LINE. Menus are immutable: a change
// is a new menu.
type RichMenu struct {
	ID          string // LINE's richMenuId; "" before creation
	Name        string
	ChatBarText string
	Width       int
	Height      int
	Selected    bool // shown open by default
	Areas       []RichMenuArea
}

// RichMenuArea is one tappable rectangle, in image pixels.
type RichMenuArea struct {
	X, Y, Width, Height int
	Action              RichMenuAction
}

// RichMenuAction is what a tap does. Type is postback, message, uri or
// datetimepicker; the other fields are that action's.
type RichMenuAction struct {
	Type        string `json:"type"`
	Label       string `json:"label,omitempty"`
	Data        string `json:"data,omitempty"`        // postback, datetimepicker
	DisplayText string `json:"displayText,omitempty"` // postback
	Text        string `json:"text,omitempty"`        // message
	URI         string `json:"uri,omitempty"`         // uri
	Mode        string `json:"mode,omitempty"`        // datetimepicker: date, time, datetime
	Initial     string `json:"initial,omitempty"`
	Min         string `json:"min,omitempty"`
	Max         string `json:"max,omitempty"`
}

func (a RichMenuAction) sdk() (messaging_api.ActionInterface, error) {
	switch a.Type {
	case "postback":
		return &messaging_api.PostbackAction{Label: a.Label, Data: a.Data, DisplayText: a.DisplayText}, nil
	case "message":
		return &messaging_api.MessageAction{Label: a.Label, Text: a.Text}, nil
	case "uri":
		return &messaging_api.UriAction{Label: a.Label, Uri: a.URI}, nil
	case "datetimepicker":
		return &messaging_api.DatetimePickerAction{Label: a.Label, Data: a.Data,
			Mode: messaging_api.DatetimePickerActionMODE(a.Mode), Initial: a.Initial, Min: a.Min, Max: a.Max}, nil
	}
	return nil, fmt.Errorf("line: rich menu: unknown action type %q", a.Type)
}

// actionFromSDK converts a decoded action; the SDK decodes actions as
// values and builds them as pointers, so both are taken.
func actionFromSDK(ai messaging_api.ActionInterface) RichMenuAction {
	switch a := ai.(type) {
	case messaging_api.PostbackAction:
		return actionFromSDK(&a)
	case messaging_api.MessageAction:
		return actionFromSDK(&a)
	case messaging_api.UriAction:
		return actionFromSDK(&a)
	case messaging_api.DatetimePickerAction:
		return actionFromSDK(&a)
	case *messaging_api.PostbackAction:
		return RichMenuAction{Type: "postback", Label: a.Label, Data: a.Data, DisplayText: a.DisplayText}
	case *messaging_api.MessageAction:
		return RichMenuAction{Type: "message", Label: a.Label, Text: a.Text}
	case *messaging_api.UriAction:
		return RichMenuAction{Type: "uri", Label: a.Label, URI: a.Uri}
	case *messaging_api.DatetimePickerAction:
		return RichMenuAction{Type: "datetimepicker", Label: a.Label, Data: a.Data, Mode: string(a.Mode),
			Initial: a.Initial, Min: a.Min, Max: a.Max}
	}
	if ai == nil {
		return RichMenuAction{}
	}
	return RichMenuAction{Type: ai.GetType()}
}

// CreateRichMenu creates a rich menu (without its image) and returns its ID.
// It is retried only after a 429: a create that timed out may have made a
// menu, and a second one would be an orphan (the caller lists and deletes
// menus it does not know).
func (c *Client) CreateRichMenu(ctx context.Context, m RichMenu) (string, error) {
	req := &messaging_api.RichMenuRequest{
		Size:        &messaging_api.RichMenuSize{Width: int64(m.Width), Height: int64(m.Height)},
		Selected:    m.Selected,
		Name:        m.Name,
		ChatBarText: m.ChatBarText,
		Areas:       make([]messaging_api.RichMenuArea, 0, len(m.Areas)),
	}
	for _, a := range m.Areas {
		act, err := a.Action.sdk()
		if err != nil {
			return "", err
		}
		req.Areas = append(req.Areas, messaging_api.RichMenuArea{
			Bounds: &messaging_api.RichMenuBounds{X: int64(a.X), Y: int64(a.Y), Width: int64(a.Width), Height: int64(a.Height)},
			Action: act,
		})
	}
	var body *messaging_api.RichMenuIdResponse
	_, _, err := c.do(ctx, EndpointRichMenu, retryOnly429, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.CreateRichMenuWithHttpInfo(req)
		body = b
		return res, err
	})
	if err != nil {
		return "", fmt.Errorf("line: create rich menu: %w", err)
	}
	if body == nil || !isPathSafe(body.RichMenuId) {
		return "", errors.New("line: create rich menu: answer could not be decoded")
	}
	return body.RichMenuId, nil
}

// SetRichMenuImage uploads a rich menu's image (JPEG or PNG) through the
// content endpoint. LINE accepts one image per menu; uploading again is
// refused, so a retry after an uncertain attempt may answer 400 "An image
// has already been uploaded", which counts as success here.
func (c *Client) SetRichMenuImage(ctx context.Context, richMenuID, contentType string, img []byte) error {
	if !isPathSafe(richMenuID) {
		return errors.New("line: rich menu image: malformed rich menu ID")
	}
	for n := 1; ; n++ {
		if err := c.limits[EndpointRichMenu].wait(ctx); err != nil {
			return fmt.Errorf("line: rich menu image: %w", err)
		}
		retry, err := c.imageAttempt(ctx, richMenuID, contentType, img, n > 1)
		if err == nil || !retry || n >= c.retry.MaxAttempts {
			return err
		}
		t := time.NewTimer(c.retry.backoff(n))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("line: rich menu image: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (c *Client) imageAttempt(ctx context.Context, id, contentType string, img []byte, isRetry bool) (retry bool, err error) {
	actx, cancel := context.WithTimeout(context.WithValue(ctx, endpointKey{}, EndpointRichMenu), 4*c.timeout)
	defer cancel()
	api, err := c.blobAPI(actx)
	if err != nil {
		return false, err
	}
	res, _, err := api.SetRichMenuImageWithHttpInfo(id, contentType, bytes.NewReader(img))
	if res == nil {
		return ctx.Err() == nil, transportError("rich menu image", err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 == 2 {
		return false, nil
	}
	apiErr := newAPIError(res)
	if isRetry && res.StatusCode == http.StatusBadRequest && apiErr.Message == MsgRichMenuImageExists {
		return false, nil
	}
	if res.StatusCode == http.StatusNotFound {
		return false, fmt.Errorf("line: rich menu image: %w: %w", ErrRichMenuNotFound, apiErr)
	}
	return apiErr.Temporary(), fmt.Errorf("line: rich menu image: %w", apiErr)
}

// MsgRichMenuImageExists is LINE's message for a second image upload.
const MsgRichMenuImageExists = "An image has already been uploaded to the richmenu"

// RichMenus lists the channel's rich menus.
func (c *Client) RichMenus(ctx context.Context) ([]RichMenu, error) {
	var body *messaging_api.RichMenuListResponse
	_, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.GetRichMenuListWithHttpInfo()
		body = b
		return res, err
	})
	if err != nil {
		return nil, fmt.Errorf("line: list rich menus: %w", err)
	}
	if body == nil {
		return nil, errors.New("line: list rich menus: answer could not be decoded")
	}
	out := make([]RichMenu, 0, len(body.Richmenus))
	for _, r := range body.Richmenus {
		m := RichMenu{ID: r.RichMenuId, Name: r.Name, ChatBarText: r.ChatBarText, Selected: r.Selected}
		if r.Size != nil {
			m.Width, m.Height = int(r.Size.Width), int(r.Size.Height)
		}
		for _, a := range r.Areas {
			ra := RichMenuArea{Action: actionFromSDK(a.Action)}
			if a.Bounds != nil {
				ra.X, ra.Y, ra.Width, ra.Height = int(a.Bounds.X), int(a.Bounds.Y), int(a.Bounds.Width), int(a.Bounds.Height)
			}
			m.Areas = append(m.Areas, ra)
		}
		out = append(out, m)
	}
	return out, nil
}

// DeleteRichMenu deletes a rich menu. A menu LINE no longer knows is gone
// already, so 404 is success: a retried delete is harmless.
func (c *Client) DeleteRichMenu(ctx context.Context, richMenuID string) error {
	if !isPathSafe(richMenuID) {
		return errors.New("line: delete rich menu: malformed rich menu ID")
	}
	res, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.DeleteRichMenuWithHttpInfo(richMenuID)
		return res, err
	})
	if err != nil && res != nil && res.StatusCode == http.StatusNotFound {
		return nil
	}
	if err != nil {
		return fmt.Errorf("line: delete rich menu: %w", err)
	}
	return nil
}

// SetDefaultRichMenu makes a menu the one shown to users without a per-user
// menu.
func (c *Client) SetDefaultRichMenu(ctx context.Context, richMenuID string) error {
	if !isPathSafe(richMenuID) {
		return errors.New("line: default rich menu: malformed rich menu ID")
	}
	res, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.SetDefaultRichMenuWithHttpInfo(richMenuID)
		return res, err
	})
	return richMenuErr("default rich menu", res, err)
}

// CancelDefaultRichMenu removes the default rich menu.
func (c *Client) CancelDefaultRichMenu(ctx context.Context) error {
	res, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.CancelDefaultRichMenuWithHttpInfo()
		return res, err
	})
	return richMenuErr("cancel default rich menu", res, err)
}

// LinkRichMenuToUsers links one menu to up to MaxRichMenuBulkUsers users in
// one call. Linking a menu a user already has is harmless, so the call is
// retried freely.
func (c *Client) LinkRichMenuToUsers(ctx context.Context, richMenuID string, userIDs []string) error {
	if !isPathSafe(richMenuID) {
		return errors.New("line: bulk link rich menu: malformed rich menu ID")
	}
	if err := checkBulkUsers(userIDs); err != nil {
		return fmt.Errorf("line: bulk link rich menu: %w", err)
	}
	req := &messaging_api.RichMenuBulkLinkRequest{RichMenuId: richMenuID, UserIds: userIDs}
	res, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.LinkRichMenuIdToUsersWithHttpInfo(req)
		return res, err
	})
	return richMenuErr("bulk link rich menu", res, err)
}

// UnlinkRichMenuFromUsers returns up to MaxRichMenuBulkUsers users to the
// default menu.
func (c *Client) UnlinkRichMenuFromUsers(ctx context.Context, userIDs []string) error {
	if err := checkBulkUsers(userIDs); err != nil {
		return fmt.Errorf("line: bulk unlink rich menu: %w", err)
	}
	req := &messaging_api.RichMenuBulkUnlinkRequest{UserIds: userIDs}
	res, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, _, err := api.UnlinkRichMenuIdFromUsersWithHttpInfo(req)
		return res, err
	})
	return richMenuErr("bulk unlink rich menu", res, err)
}

// RichMenuOfUser returns the per-user menu linked to a user;
// ErrRichMenuNotFound if there is none.
func (c *Client) RichMenuOfUser(ctx context.Context, userID string) (string, error) {
	if !IsUserID(userID) {
		return "", errors.New("line: rich menu of user: malformed user ID")
	}
	var body *messaging_api.RichMenuIdResponse
	res, _, err := c.do(ctx, EndpointRichMenu, retryIdempotent, func(api *messaging_api.MessagingApiAPI) (*http.Response, error) {
		res, b, err := api.GetRichMenuIdOfUserWithHttpInfo(userID)
		body = b
		return res, err
	})
	if err := richMenuErr("rich menu of user", res, err); err != nil {
		return "", err
	}
	if body == nil {
		return "", errors.New("line: rich menu of user: answer could not be decoded")
	}
	return body.RichMenuId, nil
}

func checkBulkUsers(ids []string) error {
	if len(ids) == 0 || len(ids) > MaxRichMenuBulkUsers {
		return fmt.Errorf("%d user IDs (1 to %d allowed)", len(ids), MaxRichMenuBulkUsers)
	}
	for _, id := range ids {
		if !IsUserID(id) {
			return errors.New("malformed user ID")
		}
	}
	return nil
}

func richMenuErr(what string, res *http.Response, err error) error {
	if err == nil {
		return nil
	}
	if res != nil && res.StatusCode == http.StatusNotFound {
		return fmt.Errorf("line: %s: %w: %w", what, ErrRichMenuNotFound, err)
	}
	return fmt.Errorf("line: %s: %w", what, err)
}
