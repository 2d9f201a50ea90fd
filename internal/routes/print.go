package routes

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
)

// Printing a route: its QR code as a PNG, and an A4 poster (the branch's
// name, the route's name, the QR code) as a PNG at 300 dpi or that image on
// one A4 PDF page. The poster image is drawn by the window, which has the
// computer's Japanese fonts (a PDF's own text would need a Japanese font
// embedded; an image of the page prints the same everywhere); this package
// checks it and writes the file. Every saved file is audited as an export.

// Errors of printing.
var (
	ErrNoURL     = errors.New("routes: the route has no URL yet (no webhook relay is enrolled, or it was not reached)")
	ErrBadPoster = errors.New("routes: the poster image is not an A4 PNG at 300 dpi")
)

// Poster size: A4 (210 × 297 mm) at 300 dpi.
const (
	PosterWidth  = 2480
	PosterHeight = 3508
	maxPoster    = 40 << 20 // bytes of PNG (a photo-like poster is far less)
)

// QRSize is the side of the QR code PNG: 1,200 px prints 10 cm wide at
// 300 dpi.
const QRSize = 1200

// QRCode returns the route's QR code as a PNG of size×size pixels.
func (s *Service) QRCode(ctx context.Context, id int64, size int) ([]byte, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.URL == "" || !r.Published {
		return nil, fmt.Errorf("routes: %d: %w", id, ErrNoURL)
	}
	// Medium correction (15%): survives a scuffed poster while keeping the
	// modules large enough to scan from a counter's distance.
	b, err := qrcode.Encode(r.URL, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("routes: QR code: %w", err)
	}
	return b, nil
}

// QRDataURL is the QR code as a data: URL for the window.
func (s *Service) QRDataURL(ctx context.Context, id int64) (string, error) {
	b, err := s.QRCode(ctx, id, 512)
	if err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b), nil
}

// SaveQRCode writes the QR code PNG (QRSize) to w; audited.
func (s *Service) SaveQRCode(ctx context.Context, actor string, id int64, w io.Writer) (int, error) {
	b, err := s.QRCode(ctx, id, QRSize)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(b); err != nil {
		return 0, fmt.Errorf("routes: write QR code: %w", err)
	}
	return 1, s.recordExport(ctx, actor, id, "qr", -1)
}

// decodePoster checks a poster image sent as base64 (optionally a data:
// URL): a PNG of PosterWidth × PosterHeight.
func decodePoster(data string) ([]byte, error) {
	if i := strings.Index(data, ","); strings.HasPrefix(data, "data:") && i > 0 {
		data = data[i+1:]
	}
	if base64.StdEncoding.DecodedLen(len(data)) > maxPoster {
		return nil, ErrBadPoster
	}
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPoster, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != PosterWidth || cfg.Height != PosterHeight {
		return nil, ErrBadPoster
	}
	return b, nil
}

// SavePoster writes the route's poster to w as "png" or "pdf"; audited.
// poster is the page image the window drew (base64 PNG, PosterWidth ×
// PosterHeight).
func (s *Service) SavePoster(ctx context.Context, actor string, id int64, format, poster string, w io.Writer) (int, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return 0, err
	}
	b, err := decodePoster(poster)
	if err != nil {
		return 0, err
	}
	switch format {
	case "png":
		_, err = w.Write(b)
	case "pdf":
		err = WritePDF(w, b)
	default:
		return 0, fmt.Errorf("%w: format %q", ErrBadPoster, format)
	}
	if err != nil {
		return 0, fmt.Errorf("routes: write poster: %w", err)
	}
	return 1, s.recordExport(ctx, actor, id, "poster_"+format, -1)
}

// WritePDF puts a 300 dpi A4 page image on one A4 PDF page, edge to edge.
func WritePDF(w io.Writer, pagePNG []byte) error {
	if _, _, err := image.DecodeConfig(bytes.NewReader(pagePNG)); err != nil {
		return fmt.Errorf("poster image: %w", err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCreator("Tsunagu", true)
	pdf.AddPage()
	opt := fpdf.ImageOptions{ImageType: "PNG"}
	pdf.RegisterImageOptionsReader("poster", opt, bytes.NewReader(pagePNG))
	pdf.ImageOptions("poster", 0, 0, 210, 297, false, opt, 0, "")
	if err := pdf.Error(); err != nil {
		return err
	}
	return pdf.Output(w)
}
