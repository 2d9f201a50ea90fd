package facade

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"tsunagu/internal/msgcode"

	"tsunagu/internal/audit"
	"tsunagu/internal/auth"
	"tsunagu/internal/line"
)

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

// LineSettings are the administrator's choices about how the official
// account behaves towards customers.
type LineSettings struct {
	// MarkReadOnLine: opening a conversation marks the customer's messages
	// read on LINE (既読をつける). Off by default.
	MarkReadOnLine bool `json:"markReadOnLine"`
}

// MessageContent returns a customer's image, video, audio or file as a data
// URL, from the encrypted DB. Masked roles (agency) are refused: media cannot
// be masked after the query the way text is (a photo of a passbook, a voice
// message), so they see only that a message has content (hasContent).
func (a *App) MessageContent(messageID int64) (string, error) {
	st, err := a.require(auth.PermInboxRead)
	if err != nil {
		return "", err
	}
	if st.Role.Masked() {
		a.denyMasked(st, "message_content")
		return "", msgcode.New(msgcode.ContentMasked)
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

// denyMasked logs and audits a call a masked role may make only for data it
// cannot be shown: like a refused permission (access.denied), naming the
// role and what was asked, never the customer.
func (a *App) denyMasked(st auth.Staff, what string) {
	a.opts.Logger.Warn("masked role refused", "role", st.Role, "what", what)
	a.mu.RLock()
	eng := a.eng
	a.mu.RUnlock()
	if eng == nil {
		return
	}
	if err := a.record(eng, audit.Entry{At: a.now(), Actor: st.Actor(), Action: audit.ActionDenied,
		Detail: map[string]string{"masked": what, "role": string(st.Role)}}); err != nil {
		a.opts.Logger.Error("audit masked refusal", "err", err)
	}
}

func (a *App) lineClient() (*line.Client, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.eng == nil || a.eng.Line() == nil {
		return nil, msgcode.New(msgcode.NotStarted)
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
