package richmenu

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
)

// PublishSync is what publishing did: the publish and the sync that moved
// every friend to their menu right after it.
type PublishSync struct {
	Publish PublishResult `json:"publish"`
	Sync    Run           `json:"sync"`
}

// PublishAndSync puts the assigned designs on LINE and then moves every
// friend to their menu (a forced sync); both audited. A failed publish
// does not sync.
func (s *Service) PublishAndSync(ctx context.Context, actor string) (PublishSync, error) {
	var res PublishSync
	var err error
	if res.Publish, err = s.Publish(ctx, actor); err != nil {
		return res, err
	}
	res.Sync, err = s.Sync(ctx, actor, true)
	return res, err
}

// SetImageBase64 stores a design's image sent by the UI as base64,
// optionally as a data: URL; checked like SetImage, audited.
func (s *Service) SetImageBase64(ctx context.Context, actor string, id int64, data string) (Design, error) {
	if i := strings.Index(data, ","); strings.HasPrefix(data, "data:") && i > 0 {
		data = data[i+1:]
	}
	// Base64 of 1 MB is about 1.4 MB; anything far larger is refused
	// before decoding.
	if len(data) > MaxImageBytes*2 {
		return Design{}, fmt.Errorf("%w: image of %d base64 bytes", ErrInvalid, len(data))
	}
	img, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return Design{}, fmt.Errorf("%w: image is not base64: %v", ErrInvalid, err)
	}
	return s.SetImage(ctx, actor, id, img)
}

// SetPlaceholderImage gives a design a generated image: a numbered
// coloured tile per tap area, to try a menu before its artwork exists.
// Audited like SetImage.
func (s *Service) SetPlaceholderImage(ctx context.Context, actor string, id int64) (Design, error) {
	d, err := s.Design(ctx, id)
	if err != nil {
		return Design{}, err
	}
	img, err := Placeholder(d.Width, d.Height, d.Areas)
	if err != nil {
		return Design{}, err
	}
	return s.SetImage(ctx, actor, id, img)
}

// ImageURL returns a design's image as a data: URL ("" if it has none).
func (s *Service) ImageURL(ctx context.Context, id int64) (string, error) {
	img, typ, err := s.Image(ctx, id)
	if err != nil {
		return "", err
	}
	return DataURL(typ, img), nil
}

// DataURL is an image as a data: URL for the UI ("" for no image).
func DataURL(typ string, data []byte) string {
	if len(data) == 0 {
		return ""
	}
	return "data:" + typ + ";base64," + base64.StdEncoding.EncodeToString(data)
}
