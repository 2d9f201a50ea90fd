package richmenu

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"tsunagu/internal/line"
)

// Template is a ready-made layout: a size and its tap areas, with
// placeholder actions staff replace.
type Template struct {
	Key    string `json:"key"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Areas  []Area `json:"areas"`
}

// Templates are LINE's common layouts: large (2500x1686) with 6, 4, 3 or 2
// areas, compact (2500x843) with 3, 2 or 1.
func Templates() []Template {
	grid := func(key string, w, h, cols, rows int) Template {
		t := Template{Key: key, Width: w, Height: h}
		for r := range rows {
			for c := range cols {
				x0, x1 := c*w/cols, (c+1)*w/cols
				y0, y1 := r*h/rows, (r+1)*h/rows
				n := len(t.Areas) + 1
				t.Areas = append(t.Areas, Area{X: x0, Y: y0, Width: x1 - x0, Height: y1 - y0,
					Action: line.RichMenuAction{Type: "postback", Data: fmt.Sprintf("menu=%d", n), Label: fmt.Sprintf("%d", n)}})
			}
		}
		return t
	}
	large3 := Template{Key: "large3", Width: 2500, Height: 1686}
	for i, a := range [][4]int{{0, 0, 2500, 843}, {0, 843, 1250, 843}, {1250, 843, 1250, 843}} {
		large3.Areas = append(large3.Areas, Area{X: a[0], Y: a[1], Width: a[2], Height: a[3],
			Action: line.RichMenuAction{Type: "postback", Data: fmt.Sprintf("menu=%d", i+1), Label: fmt.Sprintf("%d", i+1)}})
	}
	return []Template{
		grid("large6", 2500, 1686, 3, 2),
		grid("large4", 2500, 1686, 2, 2),
		large3,
		grid("large2", 2500, 1686, 2, 1),
		grid("compact3", 2500, 843, 3, 1),
		grid("compact2", 2500, 843, 2, 1),
		grid("compact1", 2500, 843, 1, 1),
	}
}

// palette colours placeholder tiles: calm, distinguishable, print-safe.
var palette = []color.RGBA{
	{0x2f, 0x6f, 0xb3, 0xff}, {0x3f, 0x9a, 0x6b, 0xff}, {0xd0, 0x8a, 0x2e, 0xff},
	{0x8a, 0x5a, 0xa8, 0xff}, {0xc0, 0x4e, 0x4e, 0xff}, {0x3a, 0x8f, 0x9e, 0xff},
}

// digits is a 3x5 bitmap font for the area numbers on placeholders.
var digits = [10][5]string{
	{"###", "#.#", "#.#", "#.#", "###"}, {".#.", "##.", ".#.", ".#.", "###"},
	{"###", "..#", "###", "#..", "###"}, {"###", "..#", "###", "..#", "###"},
	{"#.#", "#.#", "###", "..#", "..#"}, {"###", "#..", "###", "..#", "###"},
	{"###", "#..", "###", "#.#", "###"}, {"###", "..#", "..#", "..#", "..#"},
	{"###", "#.#", "###", "#.#", "###"}, {"###", "#.#", "###", "..#", "###"},
}

// Placeholder draws a PNG of the design's size with one coloured tile per
// area, numbered, so a menu can be tried before the real artwork exists.
func Placeholder(width, height int, areas []Area) ([]byte, error) {
	if err := checkSize(width, height); err != nil {
		return nil, err
	}
	img := image.NewPaletted(image.Rect(0, 0, width, height), nil)
	pal := color.Palette{color.RGBA{0xf4, 0xf5, 0xf7, 0xff}, color.White}
	for _, c := range palette {
		pal = append(pal, c)
	}
	img.Palette = pal
	fill := func(x0, y0, x1, y1 int, idx uint8) {
		for y := max(y0, 0); y < min(y1, height); y++ {
			row := img.Pix[y*img.Stride:]
			for x := max(x0, 0); x < min(x1, width); x++ {
				row[x] = idx
			}
		}
	}
	for i, a := range areas {
		const gap = 6
		fill(a.X+gap, a.Y+gap, a.X+a.Width-gap, a.Y+a.Height-gap, uint8(2+i%len(palette)))
		label := fmt.Sprintf("%d", i+1)
		cell := min(a.Width, a.Height) / 12
		if cell < 4 {
			continue
		}
		tw := (len(label)*4 - 1) * cell
		x0, y0 := a.X+(a.Width-tw)/2, a.Y+(a.Height-5*cell)/2
		for k, ch := range label {
			for r, line := range digits[ch-'0'] {
				for c, px := range line {
					if px == '#' {
						x := x0 + (k*4+c)*cell
						y := y0 + r*cell
						fill(x, y, x+cell, y+cell, 1)
					}
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("richmenu: placeholder: %w", err)
	}
	return b.Bytes(), nil
}
