package linesim

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"time"
)

// MaxSlow is the longest answer delay the outage drill sets.
const MaxSlow = 2 * time.Minute

// Drill sets the outage drill in one step, as the sandbox's drill panel
// asks for it: the API host's outage mode (SetOutage) and how late it
// answers (SetSlow). An unknown mode, or a delay outside 0..MaxSlow, is
// ErrBadOutage and changes nothing.
func (s *Server) Drill(mode string, slow time.Duration) error {
	if slow < 0 || slow > MaxSlow {
		return fmt.Errorf("%w: delay %v", ErrBadOutage, slow)
	}
	if err := s.SetOutage(mode); err != nil {
		return err
	}
	s.SetSlow(slow)
	return nil
}

// SamplePhoto is a 96x64 PNG, a navy frame around a green field: what a
// simulated customer sends as a photo (SendImage), enough for the inbox to
// show that one arrived.
func SamplePhoto() []byte {
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
