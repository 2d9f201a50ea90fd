package linesim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// Used returns how many messages counted against the monthly quota.
func (s *Server) Used() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

// RichMenu returns the rich menu linked to a customer, "" for the default.
func (s *Server) RichMenu(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.customers[userID]; ok {
		return c.richMenu
	}
	return ""
}

// ReadAt returns when the official account last marked the customer's
// messages as read (zero if never).
func (s *Server) ReadAt(userID string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.customers[userID]; ok {
		return c.readAt
	}
	return time.Time{}
}

// ReadUpTo returns the LINE message ID of the customer's newest message the
// official account marked read by token ("" if none): it and every earlier
// message show 既読 on the customer's phone.
func (s *Server) ReadUpTo(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.customers[userID]; ok && c.readUpTo > 0 {
		return strconv.FormatUint(c.readUpTo, 10)
	}
	return ""
}

// LoadingUntil returns until when the customer's chat shows the loading
// animation (zero if never).
func (s *Server) LoadingUntil(userID string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.customers[userID]; ok {
		return c.loadingEnd
	}
	return time.Time{}
}

// LinkTokenUser returns the user a link token was issued for.
func (s *Server) LinkTokenUser(token string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.linkTokens[token]
	return u, ok
}

func (s *Server) handleQuota(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.Lock()
	q := s.quota
	s.mu.Unlock()
	if q <= 0 {
		writeJSON(w, http.StatusOK, map[string]any{"type": "none"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"type": "limited", "value": q})
}

func (s *Server) handleConsumption(w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, http.StatusOK, map[string]any{"totalUsage": s.Used()})
}

func (s *Server) handleValidate(w http.ResponseWriter, r *http.Request, _ string) {
	switch r.PathValue("kind") {
	case "push", "reply", "multicast", "broadcast", "narrowcast":
	default:
		writeError(w, http.StatusNotFound, errorBody{Message: msgNotFound})
		return
	}
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	var req struct {
		Messages []json.RawMessage `json:"messages"`
	}
	if msg, bad := jsonError(body, json.Unmarshal(body, &req)); bad {
		writeError(w, http.StatusBadRequest, errorBody{Message: msg})
		return
	}
	_, details, ok := checkMessages(w, req.Messages, nil)
	if !ok {
		return
	}
	if len(details) > 0 {
		writeDetails(w, details)
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleContent(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.Lock()
	id := r.PathValue("messageId")
	c, ok := s.content[id]
	ok = ok && !s.contentExpiredLocked(id)
	s.mu.Unlock()
	// LINE answers 404 alike for an unknown message and for content it
	// has deleted.
	if !ok {
		writeError(w, http.StatusNotFound, errorBody{Message: msgNotFound})
		return
	}
	w.Header().Set("Content-Type", c.contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(c.data)
}

func (s *Server) handleLinkToken(w http.ResponseWriter, r *http.Request, _ string) {
	id := r.PathValue("userId")
	s.mu.Lock()
	c, ok := s.customers[id]
	if !ok || !c.Following {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, errorBody{Message: "Failed to issue link token"})
		return
	}
	tok := newLinkToken()
	s.linkTokens[tok] = id
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"linkToken": tok})
}

func (s *Server) handleLinkRichMenu(w http.ResponseWriter, r *http.Request, _ string) {
	menu := r.PathValue("richMenuId")
	s.mu.Lock()
	usable := s.usableMenuLocked(w, menu) // richmenu.go: 404 unknown, 400 no image
	s.mu.Unlock()
	if !usable {
		return
	}
	if !s.withCustomer(w, r.PathValue("userId"), func(c *customer) { c.richMenu = menu }) {
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleUnlinkRichMenu(w http.ResponseWriter, r *http.Request, _ string) {
	if !s.withCustomer(w, r.PathValue("userId"), func(c *customer) { c.richMenu = "" }) {
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleMarkAsRead(w http.ResponseWriter, r *http.Request, _ string) {
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	var req struct {
		Chat *struct {
			UserID string `json:"userId"`
		} `json:"chat"`
	}
	if json.Unmarshal(body, &req) != nil || req.Chat == nil || req.Chat.UserID == "" {
		writeDetails(w, []errorDetail{{Message: "May not be empty", Property: "chat.userId"}})
		return
	}
	now := s.now()
	if !s.withCustomer(w, req.Chat.UserID, func(c *customer) { c.readAt = now }) {
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// msgInvalidReadToken answers an unknown markAsReadToken. LINE documents
// the 400 but not its wording; this is the simulator's.
const msgInvalidReadToken = "Invalid markAsReadToken"

// handleMarkAsReadByToken marks the token's message and every earlier one
// of that chat as read. A token may be used again; an older token after a
// newer one changes nothing (what is read stays read).
func (s *Server) handleMarkAsReadByToken(w http.ResponseWriter, r *http.Request, _ string) {
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	var req struct {
		MarkAsReadToken *string `json:"markAsReadToken"`
	}
	if json.Unmarshal(body, &req) != nil || req.MarkAsReadToken == nil || *req.MarkAsReadToken == "" {
		writeDetails(w, []errorDetail{{Message: "May not be empty", Property: "markAsReadToken"}})
		return
	}
	now := s.now()
	s.mu.Lock()
	mark, ok := s.readTokens[*req.MarkAsReadToken]
	var c *customer
	if ok {
		c = s.customers[mark.userID]
	}
	if c != nil {
		c.readAt = now
		c.readUpTo = max(c.readUpTo, mark.messageID)
	}
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusBadRequest, errorBody{Message: msgInvalidReadToken})
		return
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleLoading(w http.ResponseWriter, r *http.Request, _ string) {
	body, ok := readJSON(w, r)
	if !ok {
		return
	}
	var req struct {
		ChatID         string `json:"chatId"`
		LoadingSeconds *int   `json:"loadingSeconds"`
	}
	if json.Unmarshal(body, &req) != nil || req.ChatID == "" {
		writeDetails(w, []errorDetail{{Message: "May not be empty", Property: "chatId"}})
		return
	}
	secs := 20 // LINE's default
	if req.LoadingSeconds != nil {
		secs = *req.LoadingSeconds
	}
	if secs < 5 || secs > 60 || secs%5 != 0 {
		writeDetails(w, []errorDetail{{Message: "Must be a multiple of 5 between 5 and 60", Property: "loadingSeconds"}})
		return
	}
	until := s.now().Add(time.Duration(secs) * time.Second)
	if !s.withCustomer(w, req.ChatID, func(c *customer) { c.loadingEnd = until }) {
		return
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
}

// withCustomer runs fn on a following customer, or answers LINE's 400 for
// a user the account cannot reach.
func (s *Server) withCustomer(w http.ResponseWriter, userID string, fn func(*customer)) bool {
	s.mu.Lock()
	c, ok := s.customers[userID]
	if ok && c.Following {
		fn(c)
	}
	s.mu.Unlock()
	if !ok || !c.Following {
		writeError(w, http.StatusBadRequest, errorBody{Message: "The user hasn't added the LINE Official Account as a friend or has blocked it"})
		return false
	}
	return true
}
