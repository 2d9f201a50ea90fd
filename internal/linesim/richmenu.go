package linesim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // rich menu images are JPEG or PNG
	_ "image/png"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// LINE's rich menu limits.
const (
	MaxRichMenus         = 1000    // per channel
	MaxRichMenuAreas     = 20      // tap areas per menu
	MaxRichMenuBulkUsers = 500     // user IDs per bulk link/unlink
	MaxRichMenuImage     = 1 << 20 // bytes
	maxChatBarText       = 14      // characters
	maxRichMenuName      = 300
	minRichMenuWidth     = 800
	maxRichMenuWidth     = 2500
	minRichMenuHeight    = 250
	minRichMenuAspect    = 1.45 // width / height
	maxActionLabel       = 20
	maxPostbackData      = 300
	maxActionText        = 300
	maxActionURI         = 1000
)

// Rich menu error messages.
const (
	msgRichMenuNotFound   = "richmenu not found"
	msgRichMenuCount      = "richmenu count exceeded the limit"
	msgRichMenuNoImage    = "must upload richmenu image before applying it to user"
	msgRichMenuImageTwice = "An image has already been uploaded to the richmenu"
	msgRichMenuImageSize  = "Image size must match the rich menu's size"
	msgRichMenuImageType  = "Unsupported image format; use image/jpeg or image/png"
	msgNoUserRichMenu     = "the user has no richmenu"
)

// RichMenuArea is one tap area of a simulated rich menu.
type RichMenuArea struct {
	Bounds RichMenuBounds  `json:"bounds"`
	Action json.RawMessage `json:"action"`
}

// RichMenuBounds is a tap area's rectangle in image pixels.
type RichMenuBounds struct {
	X      int `json:"x"`
	Y      int `json:"y"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

// RichMenu is a rich menu as the simulated channel holds it.
type RichMenu struct {
	ID          string         `json:"richMenuId"`
	Size        RichMenuSize   `json:"size"`
	Selected    bool           `json:"selected"`
	Name        string         `json:"name"`
	ChatBarText string         `json:"chatBarText"`
	Areas       []RichMenuArea `json:"areas"`
	Image       []byte         `json:"-"`
	ImageType   string         `json:"-"`
}

// RichMenuSize is a rich menu image's size in pixels.
type RichMenuSize struct {
	Width  int `json:"width"`
	Height int `json:"height"`
}

// richMenuState is the channel's rich menus (Server.rich, under Server.mu).
// Per-user links live on the customer (customer.richMenu).
type richMenuState struct {
	menus     map[string]*RichMenu
	defaultID string
	bulkCalls []int // user IDs per accepted bulk link/unlink, in order
}

func (s *Server) richLocked() *richMenuState {
	if s.rich.menus == nil {
		s.rich.menus = map[string]*RichMenu{}
	}
	return &s.rich
}

// RichMenuByID returns a copy of a rich menu the channel holds.
func (s *Server) RichMenuByID(id string) (RichMenu, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.richLocked().menus[id]
	if !ok {
		return RichMenu{}, false
	}
	return copyMenu(m), true
}

// RichMenuIDs lists the channel's rich menus.
func (s *Server) RichMenuIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.richLocked().menus))
	for id := range s.rich.menus {
		out = append(out, id)
	}
	return out
}

// DefaultRichMenu returns the default rich menu's ID ("" if none).
func (s *Server) DefaultRichMenu() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rich.defaultID
}

// ShownRichMenu returns the rich menu the customer's phone shows: their
// per-user menu, else the default; ok is false if there is none.
func (s *Server) ShownRichMenu(userID string) (RichMenu, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.rich.defaultID
	if c, ok := s.customers[userID]; ok && c.richMenu != "" {
		id = c.richMenu
	}
	m, ok := s.richLocked().menus[id]
	if !ok {
		return RichMenu{}, false
	}
	return copyMenu(m), true
}

// RichMenuBulkCalls returns the number of user IDs in each accepted bulk
// link or unlink call, oldest first.
func (s *Server) RichMenuBulkCalls() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.rich.bulkCalls...)
}

func copyMenu(m *RichMenu) RichMenu {
	c := *m
	c.Areas = append([]RichMenuArea(nil), m.Areas...)
	return c
}

func (s *Server) handleCreateRichMenu(w http.ResponseWriter, r *http.Request, _ string) {
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	m, details, ok := parseRichMenu(body)
	if !ok {
		writeError(w, http.StatusBadRequest, errorBody{Message: "The request body is invalid"})
		return
	}
	if len(details) > 0 {
		writeDetails(w, details)
		return
	}
	s.mu.Lock()
	st := s.richLocked()
	if len(st.menus) >= MaxRichMenus {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRichMenuCount})
		return
	}
	m.ID = "richmenu-" + strings.ReplaceAll(uuid.NewString(), "-", "")
	st.menus[m.ID] = m
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"richMenuId": m.ID})
}

func (s *Server) handleValidateRichMenu(w http.ResponseWriter, r *http.Request, _ string) {
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	_, details, ok := parseRichMenu(body)
	if !ok {
		writeError(w, http.StatusBadRequest, errorBody{Message: "The request body is invalid"})
		return
	}
	if len(details) > 0 {
		writeDetails(w, details)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// parseRichMenu decodes a rich menu object and checks it as LINE does; ok
// is false if the body is not a JSON object at all.
func parseRichMenu(body []byte) (*RichMenu, []errorDetail, bool) {
	var req struct {
		Size        *RichMenuSize `json:"size"`
		Selected    *bool         `json:"selected"`
		Name        *string       `json:"name"`
		ChatBarText *string       `json:"chatBarText"`
		Areas       []struct {
			Bounds *RichMenuBounds `json:"bounds"`
			Action json.RawMessage `json:"action"`
		} `json:"areas"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, nil, false
	}
	var d []errorDetail
	add := func(prop, msg string) { d = append(d, errorDetail{Property: prop, Message: msg}) }
	m := &RichMenu{}
	switch {
	case req.Size == nil:
		add("size", "must be specified")
	default:
		m.Size = *req.Size
		if w := req.Size.Width; w < minRichMenuWidth || w > maxRichMenuWidth {
			add("size.width", fmt.Sprintf("must be between %d and %d", minRichMenuWidth, maxRichMenuWidth))
		}
		if h := req.Size.Height; h < minRichMenuHeight {
			add("size.height", fmt.Sprintf("must be at least %d", minRichMenuHeight))
		} else if float64(req.Size.Width)/float64(h) < minRichMenuAspect {
			add("size", fmt.Sprintf("aspect ratio (width / height) must be at least %.2f", minRichMenuAspect))
		}
	}
	if req.Selected == nil {
		add("selected", "must be specified")
	} else {
		m.Selected = *req.Selected
	}
	switch {
	case req.Name == nil || *req.Name == "":
		add("name", "must be specified")
	case utf8.RuneCountInString(*req.Name) > maxRichMenuName:
		add("name", fmt.Sprintf("length must be between 1 and %d", maxRichMenuName))
	default:
		m.Name = *req.Name
	}
	switch {
	case req.ChatBarText == nil || *req.ChatBarText == "":
		add("chatBarText", "must be specified")
	case utf8.RuneCountInString(*req.ChatBarText) > maxChatBarText:
		add("chatBarText", fmt.Sprintf("length must be between 1 and %d", maxChatBarText))
	default:
		m.ChatBarText = *req.ChatBarText
	}
	if len(req.Areas) > MaxRichMenuAreas {
		add("areas", fmt.Sprintf("size must be between 0 and %d", MaxRichMenuAreas))
	}
	for i, a := range req.Areas {
		p := fmt.Sprintf("areas[%d]", i)
		if a.Bounds == nil {
			add(p+".bounds", "must be specified")
		} else {
			b := *a.Bounds
			if b.X < 0 || b.Y < 0 || b.Width < 1 || b.Height < 1 {
				add(p+".bounds", "x and y must be at least 0, width and height at least 1")
			} else if req.Size != nil && (b.X+b.Width > req.Size.Width || b.Y+b.Height > req.Size.Height) {
				add(p+".bounds", "must be within the rich menu's size")
			}
		}
		if prop, msg := checkRichMenuAction(a.Action); msg != "" {
			add(p+".action"+prop, msg)
		}
		var bounds RichMenuBounds
		if a.Bounds != nil {
			bounds = *a.Bounds
		}
		m.Areas = append(m.Areas, RichMenuArea{Bounds: bounds, Action: append(json.RawMessage(nil), a.Action...)})
	}
	return m, d, true
}

// checkRichMenuAction checks one area's action: the kinds a rich menu takes
// and their fields' limits. It returns the failing sub-property and LINE's
// message, or "" for a valid action.
func checkRichMenuAction(raw json.RawMessage) (prop, msg string) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", "must be specified"
	}
	var a struct {
		Type  string  `json:"type"`
		Label *string `json:"label"`
		Data  *string `json:"data"`
		Text  *string `json:"text"`
		URI   *string `json:"uri"`
		Mode  *string `json:"mode"`
	}
	if json.Unmarshal(raw, &a) != nil {
		return "", "must be an action object"
	}
	if a.Label != nil && utf8.RuneCountInString(*a.Label) > maxActionLabel {
		return ".label", fmt.Sprintf("length must be between 0 and %d", maxActionLabel)
	}
	need := func(field string, v *string, max int) (string, string) {
		switch {
		case v == nil || *v == "":
			return "." + field, "must be specified"
		case utf8.RuneCountInString(*v) > max:
			return "." + field, fmt.Sprintf("length must be between 1 and %d", max)
		}
		return "", ""
	}
	switch a.Type {
	case "postback":
		return need("data", a.Data, maxPostbackData)
	case "message":
		return need("text", a.Text, maxActionText)
	case "uri":
		if p, m := need("uri", a.URI, maxActionURI); m != "" {
			return p, m
		}
		u, err := url.Parse(*a.URI)
		if err != nil || !(u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "line" || u.Scheme == "tel") {
			return ".uri", "must be an http, https, line or tel URI"
		}
	case "datetimepicker":
		if p, m := need("data", a.Data, maxPostbackData); m != "" {
			return p, m
		}
		if a.Mode == nil || (*a.Mode != "date" && *a.Mode != "time" && *a.Mode != "datetime") {
			return ".mode", "must be one of date, time, datetime"
		}
	case "richmenuswitch", "camera", "cameraRoll", "location", "clipboard":
		// Accepted by LINE; Tsunagu does not design them.
	case "":
		return ".type", "must be specified"
	default:
		return ".type", "unknown action type"
	}
	return "", ""
}

func (s *Server) handleListRichMenus(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.Lock()
	list := make([]RichMenu, 0, len(s.richLocked().menus))
	for _, m := range s.rich.menus {
		list = append(list, copyMenu(m))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"richmenus": list})
}

func (s *Server) handleGetRichMenu(w http.ResponseWriter, r *http.Request, _ string) {
	m, ok := s.RichMenuByID(r.PathValue("richMenuId"))
	if !ok {
		writeError(w, http.StatusNotFound, errorBody{Message: msgRichMenuNotFound})
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) handleDeleteRichMenu(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("richMenuId")
	s.mu.Lock()
	if _, ok := s.richLocked().menus[id]; !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, errorBody{Message: msgRichMenuNotFound})
		return
	}
	delete(s.rich.menus, id)
	if s.rich.defaultID == id {
		s.rich.defaultID = ""
	}
	// A deleted menu is unlinked from everyone who had it.
	for _, c := range s.customers {
		if c.richMenu == id {
			c.richMenu = ""
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleUploadRichMenuImage(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("richMenuId")
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "image/jpeg" && mt != "image/png" {
		writeError(w, http.StatusUnsupportedMediaType, errorBody{Message: msgRichMenuImageType})
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxRichMenuImage+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, errorBody{Message: "The request body could not be read"})
		return
	}
	if len(data) > MaxRichMenuImage {
		writeError(w, http.StatusRequestEntityTooLarge, errorBody{Message: msgTooLarge})
		return
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || "image/"+format != mt {
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRichMenuImageType})
		return
	}
	s.mu.Lock()
	m, ok := s.richLocked().menus[id]
	switch {
	case !ok:
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, errorBody{Message: msgRichMenuNotFound})
		return
	case m.Image != nil:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRichMenuImageTwice})
		return
	case cfg.Width != m.Size.Width || cfg.Height != m.Size.Height:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRichMenuImageSize})
		return
	}
	m.Image, m.ImageType = data, mt
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleDownloadRichMenuImage(w http.ResponseWriter, r *http.Request, _ string) {
	m, ok := s.RichMenuByID(r.PathValue("richMenuId"))
	if !ok || m.Image == nil {
		writeError(w, http.StatusNotFound, errorBody{Message: msgRichMenuNotFound})
		return
	}
	w.Header().Set("Content-Type", m.ImageType)
	w.WriteHeader(http.StatusOK)
	w.Write(m.Image)
}

// usableMenuLocked answers 404 for an unknown menu and 400 for one without
// an image (LINE refuses to show those); ok says whether it may be linked.
func (s *Server) usableMenuLocked(w http.ResponseWriter, id string) bool {
	m, ok := s.richLocked().menus[id]
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, errorBody{Message: msgRichMenuNotFound})
		return false
	case m.Image == nil:
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRichMenuNoImage})
		return false
	}
	return true
}

func (s *Server) handleSetDefaultRichMenu(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("richMenuId")
	s.mu.Lock()
	if !s.usableMenuLocked(w, id) {
		s.mu.Unlock()
		return
	}
	s.rich.defaultID = id
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleGetDefaultRichMenu(w http.ResponseWriter, _ *http.Request, _ string) {
	id := s.DefaultRichMenu()
	if id == "" {
		writeError(w, http.StatusNotFound, errorBody{Message: "no default richmenu"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"richMenuId": id})
}

func (s *Server) handleCancelDefaultRichMenu(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.Lock()
	s.rich.defaultID = ""
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleUserRichMenu(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.Lock()
	c, ok := s.customers[r.PathValue("userId")]
	id := ""
	if ok {
		id = c.richMenu
	}
	s.mu.Unlock()
	if id == "" {
		writeError(w, http.StatusNotFound, errorBody{Message: msgNoUserRichMenu})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"richMenuId": id})
}

// decodeBulkUsers reads a bulk request's userIds, checking LINE's limits.
func decodeBulkUsers(w http.ResponseWriter, r *http.Request) (menu string, users []string, ok bool) {
	body, ok := readJSON(w, r)
	if !ok {
		return "", nil, false
	}
	var req struct {
		RichMenuID string   `json:"richMenuId"`
		UserIDs    []string `json:"userIds"`
	}
	if json.Unmarshal(body, &req) != nil {
		writeError(w, http.StatusBadRequest, errorBody{Message: "The request body is invalid"})
		return "", nil, false
	}
	switch {
	case len(req.UserIDs) == 0:
		writeDetails(w, []errorDetail{{Property: "userIds", Message: "must be specified"}})
		return "", nil, false
	case len(req.UserIDs) > MaxRichMenuBulkUsers:
		writeDetails(w, []errorDetail{{Property: "userIds", Message: fmt.Sprintf("size must be between 1 and %d", MaxRichMenuBulkUsers)}})
		return "", nil, false
	}
	for i, u := range req.UserIDs {
		if !isUserID(u) {
			writeDetails(w, []errorDetail{{Property: fmt.Sprintf("userIds[%d]", i), Message: "invalid user ID"}})
			return "", nil, false
		}
	}
	return req.RichMenuID, req.UserIDs, true
}

// handleBulkLink links one menu to many users. LINE answers 202 and applies
// it asynchronously, ignoring IDs it cannot reach; the simulator applies it
// at once, to the following customers it knows.
func (s *Server) handleBulkLink(w http.ResponseWriter, r *http.Request, _ string) {
	menu, users, ok := decodeBulkUsers(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	if !s.usableMenuLocked(w, menu) {
		s.mu.Unlock()
		return
	}
	for _, u := range users {
		if c, ok := s.customers[u]; ok && c.Following {
			c.richMenu = menu
		}
	}
	s.rich.bulkCalls = append(s.rich.bulkCalls, len(users))
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, struct{}{})
}

func (s *Server) handleBulkUnlink(w http.ResponseWriter, r *http.Request, _ string) {
	_, users, ok := decodeBulkUsers(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	for _, u := range users {
		if c, ok := s.customers[u]; ok {
			c.richMenu = ""
		}
	}
	s.richLocked().bulkCalls = append(s.rich.bulkCalls, len(users))
	s.mu.Unlock()
	writeJSON(w, http.StatusAccepted, struct{}{})
}
