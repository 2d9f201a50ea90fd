package linesim

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
)

// StickerImagePath is the path under which LINE's sticker CDN
// (https://stickershop.line-scdn.net) serves a sticker's image by its
// sticker ID: StickerImagePath + "{stickerId}/android/sticker.png". The
// simulator serves the same path with a drawn stand-in, so the sandbox and
// its tests show sticker images without the internet.
const StickerImagePath = "/stickershop/v1/sticker/"

// StickerImageBase is the simulator's counterpart of LINE's sticker image
// base URL (line.StickerImageBase).
func (s *Server) StickerImageBase() string { return s.URL() + StickerImagePath }

// handleStickerImage draws a sticker: a round face in a colour of its ID.
// Like the CDN it needs no token; an ID that is not a number is not found.
func handleStickerImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("stickerId")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil || len(id) > 12 {
		http.NotFound(w, r)
		return
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	sum := h.Sum32()
	face := color.NRGBA{R: uint8(80 + sum%150), G: uint8(80 + (sum>>8)%150), B: uint8(80 + (sum>>16)%150), A: 255}
	const size = 120
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	in := func(x, y, cx, cy, r int) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			switch {
			case in(x, y, 42, 48, 8), in(x, y, 78, 48, 8): // eyes
				img.Set(x, y, color.NRGBA{A: 255})
			case in(x, y, 60, 74, 22) && y > 76: // smile
				img.Set(x, y, color.NRGBA{R: 255, G: 255, B: 255, A: 255})
			case in(x, y, 60, 60, 56):
				img.Set(x, y, face)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(buf.Bytes())
}
