// Package richmenu keeps each LINE friend's rich menu in step with their
// segment. Staff design menus (image, tap areas, actions) and assign them
// by ordered rules ("segment → menu", first match wins, plus a default);
// Publish puts the designs on LINE (menus are immutable there, so a changed
// design becomes a new LINE menu and the old one is deleted once nobody
// uses it); Sync computes every following friend's target menu, stores the
// plan, and applies it with bulk link calls of at most 500 users, resuming
// from the stored plan after a crash.
package richmenu

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // rich menu images are JPEG or PNG
	_ "image/png"
	"net/url"
	"strings"
	"unicode/utf8"

	"tsunagu/internal/fielderr"
	"tsunagu/internal/line"
)

// ErrInvalid wraps every validation failure of a design; the text after it
// says what is wrong (for staff, in English; the UI shows its own message).
var ErrInvalid = errors.New("richmenu: invalid")

// LINE's limits on rich menus.
const (
	MinWidth      = 800
	MaxWidth      = 2500
	MinHeight     = 250
	MinAspect     = 1.45 // width / height
	MaxAreas      = 20
	MaxImageBytes = 1 << 20
	MaxChatBar    = 14
	MaxName       = 100 // Tsunagu's; LINE allows 300
	MaxLabel      = 20
	MaxData       = 300 // postback data
	MaxText       = 300 // message action text
	MaxURI        = 1000
)

// Area is one tap area of a design, in image pixels.
type Area struct {
	X      int                 `json:"x"`
	Y      int                 `json:"y"`
	Width  int                 `json:"width"`
	Height int                 `json:"height"`
	Action line.RichMenuAction `json:"action"`
}

// Design is a rich menu as staff designed it.
type Design struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ChatBarText string `json:"chatBarText"`
	Selected    bool   `json:"selected"`
	Areas       []Area `json:"areas"`
	ImageType   string `json:"imageType"` // "" until an image is uploaded
	Revision    int    `json:"revision"`
	// PublishedRevision is the revision on LINE (0: never published);
	// LineMenuID is LINE's richMenuId for it.
	PublishedRevision int    `json:"publishedRevision"`
	LineMenuID        string `json:"lineMenuId"`
	PublishedAt       int64  `json:"publishedAt"`
	UpdatedBy         string `json:"updatedBy"`
	UpdatedAt         int64  `json:"updatedAt"`
}

// Validate checks a design as LINE would, plus Tsunagu's own rule that tap
// areas do not overlap (a tap must do one obvious thing). Every wrong field
// is reported by its path in Design ("chatBarText", "areas.1.action.uri").
func (d Design) Validate() error {
	var l fielderr.List
	name := strings.TrimSpace(d.Name)
	if name == "" {
		l.Add("name", fielderr.Required)
	} else if utf8.RuneCountInString(name) > MaxName {
		l.AddMax("name", fielderr.TooLong, MaxName)
	}
	if err := checkSize(d.Width, d.Height); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(d.ChatBarText); n == 0 {
		l.Add("chatBarText", fielderr.Required)
	} else if n > MaxChatBar {
		l.AddMax("chatBarText", fielderr.TooLong, MaxChatBar)
	}
	if len(d.Areas) == 0 {
		l.Add("areas", fielderr.Required)
	} else if len(d.Areas) > MaxAreas {
		l.AddMax("areas", fielderr.TooMany, MaxAreas)
	}
	for i, a := range d.Areas {
		at := fmt.Sprintf("areas.%d", i)
		if a.Width < 1 || a.Height < 1 || a.X < 0 || a.Y < 0 || a.X+a.Width > d.Width || a.Y+a.Height > d.Height {
			l.Add(at, fielderr.Outside)
		}
		for j := range i {
			b := d.Areas[j]
			if a.X < b.X+b.Width && b.X < a.X+a.Width && a.Y < b.Y+b.Height && b.Y < a.Y+a.Height {
				l.Add(at, fielderr.Overlap)
				break
			}
		}
		if err := ValidateAction(a.Action); err != nil {
			if !l.Merge(fielderr.Under(at+".action", err)) {
				return fmt.Errorf("area %d: %w", i+1, err)
			}
		}
	}
	return l.Err(ErrInvalid)
}

func checkSize(w, h int) error {
	if w < MinWidth || w > MaxWidth || h < MinHeight || float64(w)/float64(h) < MinAspect {
		return fmt.Errorf("%w: size must be %d to %d wide, at least %d high, and at least %.2f times as wide as high",
			ErrInvalid, MinWidth, MaxWidth, MinHeight, MinAspect)
	}
	return nil
}

// ValidateAction checks one tap action: postback (data), message (text),
// uri (https, tel or line) or datetimepicker (data and mode). A wrong field
// is named by its JSON name in the action ("uri", "label").
func ValidateAction(a line.RichMenuAction) error {
	var l fielderr.List
	between := func(field, v string, max int) {
		if n := utf8.RuneCountInString(v); n == 0 {
			l.Add(field, fielderr.Required)
		} else if n > max {
			l.AddMax(field, fielderr.TooLong, max)
		}
	}
	if utf8.RuneCountInString(a.Label) > MaxLabel {
		l.AddMax("label", fielderr.TooLong, MaxLabel)
	}
	switch a.Type {
	case "postback":
		between("data", a.Data, MaxData)
		if utf8.RuneCountInString(a.DisplayText) > MaxText {
			l.AddMax("displayText", fielderr.TooLong, MaxText)
		}
	case "message":
		between("text", a.Text, MaxText)
	case "uri":
		before := l.Len()
		if between("uri", a.URI, MaxURI); l.Len() > before {
			break
		}
		u, err := url.Parse(a.URI)
		switch {
		case err != nil:
			l.Add("uri", fielderr.LinkScheme)
		case u.Scheme == "https":
			if u.Host == "" {
				l.Add("uri", fielderr.LinkScheme)
			}
		case u.Scheme == "tel", u.Scheme == "line":
		default:
			l.Add("uri", fielderr.LinkScheme)
		}
	case "datetimepicker":
		between("data", a.Data, MaxData)
		if a.Mode != "date" && a.Mode != "time" && a.Mode != "datetime" {
			l.Add("mode", fielderr.Choose)
		}
	default:
		l.Add("type", fielderr.Choose)
	}
	return l.Err(ErrInvalid)
}

// CheckImage validates a menu image for a width x height design: JPEG or
// PNG (by content, not by name), at most 1 MB, exactly the design's size.
// It returns the image's MIME type.
func CheckImage(data []byte, width, height int) (string, error) {
	if len(data) == 0 {
		return "", fmt.Errorf("%w: no image", ErrInvalid)
	}
	if len(data) > MaxImageBytes {
		return "", fmt.Errorf("%w: image is larger than 1 MB", ErrInvalid)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return "", fmt.Errorf("%w: image must be a PNG or JPEG file", ErrInvalid)
	}
	if cfg.Width != width || cfg.Height != height {
		return "", fmt.Errorf("%w: image is %dx%d, the menu is %dx%d", ErrInvalid, cfg.Width, cfg.Height, width, height)
	}
	return "image/" + format, nil
}

// lineMenu is the LINE object for a design.
func (d Design) lineMenu() line.RichMenu {
	m := line.RichMenu{
		// The name ties a LINE menu to its design revision, so that a menu
		// created just before a crash is recognised as Tsunagu's orphan.
		Name:        fmt.Sprintf("%s%d:r%d", lineNamePrefix, d.ID, d.Revision),
		ChatBarText: d.ChatBarText, Width: d.Width, Height: d.Height, Selected: d.Selected,
	}
	for _, a := range d.Areas {
		m.Areas = append(m.Areas, line.RichMenuArea{X: a.X, Y: a.Y, Width: a.Width, Height: a.Height, Action: a.Action})
	}
	return m
}

// lineNamePrefix starts the LINE name of every menu Tsunagu creates.
const lineNamePrefix = "tsunagu:"
