package inbox

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // decodes PNG attachments
	"net/http"
	"time"

	"tsunagu/internal/audit"
	"tsunagu/internal/line"
)

// MediaHost puts an image where LINE can fetch it: an HTTPS URL that is
// hard to guess. The relay implements it in live mode; the engine's sandbox
// hosts it on loopback.
type MediaHost interface {
	UploadMedia(ctx context.Context, data []byte, contentType string) (url string, err error)
}

// Limits LINE sets on image messages.
const (
	MaxImageBytes   = 10 << 20 // originalContentUrl: JPEG or PNG, at most 10 MB
	MaxPreviewBytes = 1 << 20  // previewImageUrl: at most 1 MB
	PreviewSide     = 240      // the preview's longer side, in pixels
)

// Errors of image replies.
var (
	ErrNoMediaHost = errors.New("inbox: no host for images: images cannot be sent")
	ErrBadImage    = errors.New("inbox: the file is not a JPEG or PNG image")
	ErrImageSize   = errors.New("inbox: the image is larger than 10 MB")
)

// UploadTimeout bounds putting an image and its preview on the host.
const UploadTimeout = 30 * time.Second

// ReplyImage sends a JPEG or PNG image from staff: it is checked, a preview
// (at most 240 px, JPEG) is made, both are put on the media host, and the
// message is stored (with the image as its content, so the thread shows
// it, and the LINE message object as its payload, so a retry resends the
// same URLs) and audited before it is sent like Reply: by a fresh reply
// token or by push with a stored retry key. Nothing is uploaded for a
// customer who blocked the account.
func (ib *Inbox) ReplyImage(ctx context.Context, conversationID int64, by Actor, data []byte) (Message, error) {
	switch {
	case ib.send == nil:
		return Message{}, ErrOffline
	case ib.media == nil:
		return Message{}, ErrNoMediaHost
	case by.Audit == "":
		return Message{}, ErrNoActor
	}
	typ, preview, err := CheckImage(data)
	if err != nil {
		return Message{}, err
	}
	var follow string
	err = ib.db.Reader().QueryRowContext(ctx, `
		SELECT u.follow_state FROM conversations c JOIN line_users u ON u.user_id = c.line_user_id WHERE c.id = ?`, conversationID).Scan(&follow)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, fmt.Errorf("conversation %d: %w", conversationID, ErrNotFound)
	}
	if err != nil {
		return Message{}, fmt.Errorf("conversation %d: %w", conversationID, err)
	}
	if follow == "unfollowed" {
		return Message{}, ErrUnreachable
	}
	uctx, cancel := context.WithTimeout(ctx, UploadTimeout)
	original, err := ib.media.UploadMedia(uctx, data, typ)
	var previewURL string
	if err == nil {
		previewURL, err = ib.media.UploadMedia(uctx, preview, "image/jpeg")
	}
	cancel()
	if err != nil {
		return Message{}, fmt.Errorf("upload image: %w", err)
	}
	msg, err := line.Image(original, previewURL)
	if err != nil {
		return Message{}, fmt.Errorf("image message: %w", err)
	}
	payload, err := line.MarshalMessages([]line.Message{msg})
	if err != nil {
		return Message{}, fmt.Errorf("image message: %w", err)
	}

	unlock := ib.locks.lock(conversationID)
	defer unlock()
	now := ib.now()
	var msgID int64
	err = ib.db.Write(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `
			SELECT u.follow_state FROM conversations c
			JOIN line_users u ON u.user_id = c.line_user_id WHERE c.id = ?`, conversationID).Scan(&follow); err != nil {
			return err
		}
		if follow == "unfollowed" {
			return ErrUnreachable
		}
		token, until, err := claimReplyToken(ctx, tx, conversationID, now.Add(-ib.ttl), ib.ttl)
		if err != nil {
			return err
		}
		via := "push"
		if token != nil {
			via = "reply"
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO messages (conversation_id, direction, kind, body, sent_by, via, retry_key, status, created_at, payload, send_token, send_token_until)
			VALUES (?, 'out', 'image', '', ?, ?, ?, 'pending', ?, ?, ?, ?)`,
			conversationID, by.Name, via, ib.newKey(), now.UnixMilli(), string(payload), token, until)
		if err != nil {
			return err
		}
		if msgID, err = res.LastInsertId(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO message_content (message_id, content_type, data, fetched_at) VALUES (?, ?, ?, ?)`,
			msgID, typ, data, now.UnixMilli()); err != nil {
			return err
		}
		if err := touchConversation(ctx, tx, conversationID, now.UnixMilli(), "image", "", false); err != nil {
			return err
		}
		return recordSend(ctx, tx, by, audit.ActionMessageSend, conversationID, msgID, via, now)
	})
	if err != nil {
		return Message{}, fmt.Errorf("image reply to conversation %d: %w", conversationID, err)
	}
	ib.notify(conversationID)
	return ib.deliverNow(ctx, conversationID, msgID)
}

// claimReplyToken takes the newest unused reply token of the conversation
// received after freshAfter and marks it used. It returns the token and
// until when it may be used (unix ms: its event's time plus ttl), both nil
// if there is none.
func claimReplyToken(ctx context.Context, tx *sql.Tx, conversationID int64, freshAfter time.Time, ttl time.Duration) (token, until any, err error) {
	var (
		id, at int64
		tok    string
	)
	err = tx.QueryRowContext(ctx, `
		SELECT m.id, m.reply_token, e.occurred_at FROM messages m
		JOIN webhook_events e ON e.webhook_event_id = m.webhook_event_id
		WHERE m.conversation_id = ? AND m.direction = 'in' AND m.reply_token IS NOT NULL
		  AND m.reply_token <> '' AND m.reply_token_used = 0 AND e.occurred_at >= ?
		ORDER BY m.id DESC LIMIT 1`, conversationID, freshAfter.UnixMilli()).Scan(&id, &tok, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if _, err = tx.ExecContext(ctx, `UPDATE messages SET reply_token_used = 1 WHERE id = ?`, id); err != nil {
		return nil, nil, err
	}
	return tok, at + ttl.Milliseconds(), nil
}

// CheckImage checks that data is a JPEG or PNG image LINE accepts and
// returns its MIME type and a JPEG preview at most PreviewSide pixels on its
// longer side (and under MaxPreviewBytes).
func CheckImage(data []byte) (contentType string, preview []byte, err error) {
	if len(data) > MaxImageBytes {
		return "", nil, ErrImageSize
	}
	contentType = http.DetectContentType(data)
	if contentType != "image/jpeg" && contentType != "image/png" {
		return "", nil, ErrBadImage
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrBadImage, err)
	}
	for q := 85; ; q -= 20 {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, shrink(img, PreviewSide), &jpeg.Options{Quality: q}); err != nil {
			return "", nil, fmt.Errorf("preview: %w", err)
		}
		if buf.Len() <= MaxPreviewBytes || q <= 25 {
			return contentType, buf.Bytes(), nil
		}
	}
}

// shrink scales img down (never up) so its longer side is at most side,
// averaging the source pixels under each target pixel (a box filter:
// smooth enough for a thumbnail, and no dependency).
func shrink(img image.Image, side int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= side && h <= side {
		return img
	}
	nw, nh := side, h*side/w
	if h > w {
		nw, nh = w*side/h, side
	}
	nw, nh = max(nw, 1), max(nh, 1)
	out := image.NewRGBA(image.Rect(0, 0, nw, nh))
	for y := range nh {
		y0, y1 := b.Min.Y+y*h/nh, b.Min.Y+max((y+1)*h/nh, y*h/nh+1)
		for x := range nw {
			x0, x1 := b.Min.X+x*w/nw, b.Min.X+max((x+1)*w/nw, x*w/nw+1)
			var r, g, bl, a, n uint64
			// Sample at most 4x4 points per target pixel: a 10 MB photo
			// must not take seconds.
			sy, sx := max((y1-y0)/4, 1), max((x1-x0)/4, 1)
			for yy := y0; yy < y1; yy += sy {
				for xx := x0; xx < x1; xx += sx {
					cr, cg, cb, ca := img.At(xx, yy).RGBA()
					r, g, bl, a, n = r+uint64(cr), g+uint64(cg), bl+uint64(cb), a+uint64(ca), n+1
				}
			}
			out.SetRGBA(x, y, color.RGBA{uint8(r / n >> 8), uint8(g / n >> 8), uint8(bl / n >> 8), uint8(a / n >> 8)})
		}
	}
	return out
}
