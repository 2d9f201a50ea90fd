package facade

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"tsunagu/internal/auth"
	"tsunagu/internal/line"
)

// Message codes of the LINE layer.
const (
	codeMonthlyLimit  = "errors.monthlyLimit"
	codeQuotaExceeded = "errors.quotaExceeded"
)

// lineCode maps the LINE layer's errors that need their own wording.
func lineCode(err error) string {
	switch {
	case errors.Is(err, line.ErrMonthlyLimit):
		return codeMonthlyLimit
	case errors.Is(err, line.ErrQuotaExceeded):
		return codeQuotaExceeded
	}
	return ""
}

// LineQuota is the channel's monthly message allowance and use.
type LineQuota struct {
	Limited bool  `json:"limited"` // false: no monthly limit
	Limit   int64 `json:"limit"`
	Used    int64 `json:"used"`
}

// Quota asks LINE (the simulator in sandbox mode) for this month's message
// limit and consumption, so that staff see what a campaign may still send.
func (a *App) Quota() (LineQuota, error) {
	if _, err := a.require(auth.PermInboxRead); err != nil {
		return LineQuota{}, err
	}
	cl, err := a.lineClient()
	if err != nil {
		return LineQuota{}, err
	}
	q, err := cl.Quota(a.ctx)
	if err != nil {
		return LineQuota{}, a.userError(err)
	}
	used, err := cl.QuotaConsumption(a.ctx)
	if err != nil {
		return LineQuota{}, a.userError(err)
	}
	return LineQuota{Limited: q.Limited, Limit: q.Limit, Used: used}, nil
}

// MessageContent returns a customer's image, video, audio or file as a data
// URL, from the encrypted DB.
func (a *App) MessageContent(messageID int64) (string, error) {
	if _, err := a.require(auth.PermInboxRead); err != nil {
		return "", err
	}
	ib, err := a.inbox()
	if err != nil {
		return "", err
	}
	data, typ, err := ib.MessageContent(a.ctx, messageID)
	if err != nil {
		return "", a.userError(err)
	}
	if typ == "" {
		typ = "application/octet-stream"
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(data), nil
}

// SandboxSendSticker sends a sticker as a simulated customer.
func (a *App) SandboxSendSticker(userID, packageID, stickerID string) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if _, err := sim.SendSticker(a.ctx, userID, packageID, stickerID); err != nil {
		return a.userError(fmt.Errorf("sandbox sticker: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

// SandboxSendImage sends a small generated photo as a simulated customer;
// the app downloads it through the content API like a real one.
func (a *App) SandboxSendImage(userID string) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if _, _, err := sim.SendImage(a.ctx, userID, samplePhoto(), "image/png"); err != nil {
		return a.userError(fmt.Errorf("sandbox image: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

// SandboxPostback taps a postback button as a simulated customer: label is
// what the phone shows, data what the webhook carries.
func (a *App) SandboxPostback(userID, label, data string) error {
	if _, err := a.require(auth.PermSandbox); err != nil {
		return err
	}
	sim, err := a.sim()
	if err != nil {
		return err
	}
	if _, err := sim.Postback(a.ctx, userID, label, data); err != nil {
		return a.userError(fmt.Errorf("sandbox postback: %w", err))
	}
	a.emitPhone(userID)
	return nil
}

func (a *App) lineClient() (*line.Client, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.eng == nil || a.eng.Line() == nil {
		return nil, errors.New(codeNotStarted)
	}
	return a.eng.Line(), nil
}

// samplePhoto draws a 96x64 PNG: a navy frame around a green field, enough
// for the inbox to show that a photo arrived.
func samplePhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for y := range 64 {
		for x := range 96 {
			c := color.RGBA{0x06, 0xc7, 0x55, 0xff}
			if x < 4 || y < 4 || x >= 92 || y >= 60 {
				c = color.RGBA{0x1f, 0x3a, 0x5f, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	// Encoding an in-memory RGBA image cannot fail.
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
