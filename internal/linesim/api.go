package linesim

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits LINE applies to the simulated endpoints.
const (
	maxMessages        = 5
	maxMulticastTo     = 500
	maxTextLength      = 5000 // UTF-16 code units
	maxAltText         = 1500
	maxTemplateAltText = 400
	maxFlexBubble      = 30000   // bytes of JSON
	maxFlexCarousel    = 50000   // bytes of JSON
	maxFlexBubbles     = 12      // bubbles in a carousel
	maxBody            = 2 << 20 // LINE refuses request bodies over 2 MB with 413
)

// LINE's error messages, word for word where LINE documents them.
const (
	msgAuthRequired   = "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'"
	msgAuthFailed     = "Authentication failed. Confirm that the access token in the authorization header is valid."
	msgNotFound       = "Not found"
	msgInvalidReply   = "Invalid reply token"
	msgRetryAccepted  = "The retry key is already accepted"
	msgRetryInvalid   = "The value of the X-Line-Retry-Key header is invalid"
	msgRetryForbidden = "X-Line-Retry-Key is not supported by this API"
	msgFailedToSend   = "Failed to send messages"
	msgTooLarge       = "Request Entity Too Large"
	msgRateLimited    = "The API rate limit has been exceeded. Try again later."
	msgMonthlyLimit   = "You have reached your monthly limit."
	msgInternal       = "Internal server error"
)

// errorBody is LINE's JSON error response.
type errorBody struct {
	Message      string        `json:"message"`
	Details      []errorDetail `json:"details,omitempty"`
	SentMessages []sentMessage `json:"sentMessages,omitempty"`
}

type errorDetail struct {
	Message  string `json:"message,omitempty"`
	Property string `json:"property,omitempty"`
}

type sentMessage struct {
	ID         string `json:"id"`
	QuoteToken string `json:"quoteToken,omitempty"`
}

type sendResponse struct {
	SentMessages []sentMessage `json:"sentMessages"`
}

type profileResponse struct {
	DisplayName   string `json:"displayName"`
	UserID        string `json:"userId"`
	PictureURL    string `json:"pictureUrl,omitempty"`
	StatusMessage string `json:"statusMessage,omitempty"`
	Language      string `json:"language,omitempty"`
}

// endpoint is one simulated API, named for rate limits and faults.
type endpoint struct {
	name    string
	pattern string
	serve   func(w http.ResponseWriter, r *http.Request, requestID string)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Not the Messaging API: the sticker CDN's images (sticker.go).
	mux.HandleFunc("GET "+StickerImagePath+"{stickerId}/android/sticker.png", handleStickerImage)
	// Not the Messaging API either: LINE Login's ID token check (login.go).
	mux.HandleFunc("POST "+VerifyPath, s.handleVerifyIDToken)
	mux.HandleFunc("GET "+CertsPath, s.handleCerts)
	mux.HandleFunc("GET "+LIFFSDKPath, handleLIFFSDK)
	for _, ep := range []endpoint{
		{EndpointPush, "POST /v2/bot/message/push", s.handlePush},
		{EndpointReply, "POST /v2/bot/message/reply", s.handleReply},
		{EndpointMulticast, "POST /v2/bot/message/multicast", s.handleMulticast},
		{EndpointProfile, "GET /v2/bot/profile/{userId}", s.handleProfile},
		{EndpointQuota, "GET /v2/bot/message/quota", s.handleQuota},
		{EndpointQuota, "GET /v2/bot/message/quota/consumption", s.handleConsumption},
		{EndpointValidate, "POST /v2/bot/message/validate/{kind}", s.handleValidate},
		{EndpointContent, "GET /v2/bot/message/{messageId}/content", s.handleContent},
		{EndpointLinkToken, "POST /v2/bot/user/{userId}/linkToken", s.handleLinkToken},
		{EndpointRichMenu, "POST /v2/bot/user/{userId}/richmenu/{richMenuId}", s.handleLinkRichMenu},
		{EndpointRichMenu, "DELETE /v2/bot/user/{userId}/richmenu", s.handleUnlinkRichMenu},
		{EndpointRichMenu, "POST /v2/bot/richmenu", s.handleCreateRichMenu},                // richmenu.go
		{EndpointRichMenu, "POST /v2/bot/richmenu/validate", s.handleValidateRichMenu},     // richmenu.go
		{EndpointRichMenu, "GET /v2/bot/richmenu/list", s.handleListRichMenus},             // richmenu.go
		{EndpointRichMenu, "GET /v2/bot/richmenu/{richMenuId}", s.handleGetRichMenu},       // richmenu.go
		{EndpointRichMenu, "DELETE /v2/bot/richmenu/{richMenuId}", s.handleDeleteRichMenu}, // richmenu.go
		{EndpointRichMenu, "POST /v2/bot/richmenu/{richMenuId}/content", s.handleUploadRichMenuImage},
		{EndpointRichMenu, "GET /v2/bot/richmenu/{richMenuId}/content", s.handleDownloadRichMenuImage},
		{EndpointRichMenu, "POST /v2/bot/user/all/richmenu/{richMenuId}", s.handleSetDefaultRichMenu},
		{EndpointRichMenu, "GET /v2/bot/user/all/richmenu", s.handleGetDefaultRichMenu},
		{EndpointRichMenu, "DELETE /v2/bot/user/all/richmenu", s.handleCancelDefaultRichMenu},
		{EndpointRichMenu, "GET /v2/bot/user/{userId}/richmenu", s.handleUserRichMenu},
		{EndpointRichMenu, "POST /v2/bot/richmenu/bulk/link", s.handleBulkLink},
		{EndpointRichMenu, "POST /v2/bot/richmenu/bulk/unlink", s.handleBulkUnlink},
		{EndpointMarkAsRead, "POST /v2/bot/message/markAsRead", s.handleMarkAsRead},
		{EndpointMarkAsReadByToken, "POST /v2/bot/chat/markAsRead", s.handleMarkAsReadByToken},
		{EndpointLoading, "POST /v2/bot/chat/loading/start", s.handleLoading},
		{EndpointBotInfo, "GET /v2/bot/info", s.handleBotInfo},
		{EndpointWebhookEndpoint, "PUT /v2/bot/channel/webhook/endpoint", s.handleSetWebhookEndpoint},
		{EndpointAggregationUnit, "GET /v2/bot/message/aggregation/info", s.handleUnitUsage},         // units.go
		{EndpointAggregationUnit, "GET /v2/bot/message/aggregation/list", s.handleUnitList},          // units.go
		{EndpointInsightUnit, "GET /v2/bot/insight/message/event/aggregation", s.handleStatsPerUnit}, // insight.go
		{EndpointInsightFollowers, "GET /v2/bot/insight/followers", s.handleFollowers},
		{EndpointInsightDelivery, "GET /v2/bot/insight/message/delivery", s.handleDeliveryCount},
		{EndpointInsightDemographic, "GET /v2/bot/insight/demographic", s.handleDemographic},
		{"", "/", func(w http.ResponseWriter, _ *http.Request, _ string) {
			writeError(w, http.StatusNotFound, errorBody{Message: msgNotFound})
		}},
	} {
		mux.Handle(ep.pattern, s.serveAPI(ep))
	}
	return mux
}

// serveAPI wraps an endpoint with what every LINE API response shares: an
// x-line-request-id header, and bearer-token authentication before anything
// else is looked at; then rate limits, faults and latency.
func (s *Server) serveAPI(ep endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := newRequestID()
		w.Header().Set("X-Line-Request-Id", reqID)
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			writeError(w, http.StatusUnauthorized, errorBody{Message: msgAuthRequired})
			return
		}
		if s.token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
			writeError(w, http.StatusUnauthorized, errorBody{Message: msgAuthFailed})
			return
		}
		if ep.name == "" {
			ep.serve(w, r, reqID)
			return
		}
		s.serveFaulty(w, r, ep, reqID)
	})
}

// sendRequest is the body of push, reply and multicast, decoded loosely so
// that missing and mistyped fields can be reported the way LINE reports
// them. "to" is a string for push and an array for multicast.
type sendRequest struct {
	To         json.RawMessage   `json:"to"`
	ReplyToken *string           `json:"replyToken"`
	Messages   []json.RawMessage `json:"messages"`
	// Units is customAggregationUnits (push and multicast; units.go).
	Units json.RawMessage `json:"customAggregationUnits"`
}

// message is one accepted message object.
type message struct {
	typ  string
	text string // text, or alt text, or "package/sticker"
	raw  []byte
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, reqID string) {
	retryKey, ok := checkRetryKey(w, r)
	if !ok {
		return
	}
	req, msgs, ok := decodeSend(w, r, "to", false)
	if !ok {
		return
	}
	unit, ok := checkUnits(w, req.Units)
	if !ok {
		return
	}
	var to string
	if json.Unmarshal(req.To, &to) != nil || !isRecipientID(to) {
		writeError(w, http.StatusBadRequest, errorBody{
			Message: "The property, 'to', in the request body is invalid (line: -, column: -)",
		})
		return
	}

	now := s.now()
	s.mu.Lock()
	if s.answerRepeatLocked(w, retryKey, now) {
		s.mu.Unlock()
		return
	}
	c, ok := s.customers[to]
	if !ok {
		// What LINE answers for a well-formed ID it does not know,
		// such as one issued under another provider.
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, errorBody{Message: msgFailedToSend})
		return
	}
	if c.Following && !s.quotaAllowsLocked(len(msgs)) {
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, errorBody{Message: msgMonthlyLimit})
		return
	}
	sent := s.newSentMessagesLocked(len(msgs))
	if retryKey != "" {
		s.retryKeys[retryKey] = acceptedPush{requestID: reqID, sent: sent, at: now}
	}
	unit = s.countUnitLocked(unit, now)
	// LINE accepts a push to a user who blocked the account (200) but
	// does not deliver it.
	var delivered []Delivery
	if c.Following {
		delivered = s.deliverLocked(c, msgs, sendInfo{via: ViaPush, retryKey: retryKey, reqID: reqID, unit: unit, sent: sent}, now)
	}
	s.mu.Unlock()

	s.notify(delivered)
	writeJSON(w, http.StatusOK, sendResponse{SentMessages: sent})
}

func (s *Server) handleMulticast(w http.ResponseWriter, r *http.Request, reqID string) {
	retryKey, ok := checkRetryKey(w, r)
	if !ok {
		return
	}
	req, msgs, ok := decodeSend(w, r, "to", true)
	if !ok {
		return
	}
	unit, ok := checkUnits(w, req.Units)
	if !ok {
		return
	}
	var to []string
	if json.Unmarshal(req.To, &to) != nil {
		writeError(w, http.StatusBadRequest, errorBody{
			Message: "The property, 'to', in the request body is invalid (line: -, column: -)",
		})
		return
	}
	if len(to) == 0 || len(to) > maxMulticastTo {
		writeError(w, http.StatusBadRequest, errorBody{
			Message: "The request body has 1 error(s)",
			Details: []errorDetail{{Message: fmt.Sprintf("Size must be between 1 and %d", maxMulticastTo), Property: "to"}},
		})
		return
	}
	for i, id := range to {
		if !isUserID(id) {
			writeError(w, http.StatusBadRequest, errorBody{
				Message: fmt.Sprintf("The property, 'to[%d]', in the request body is invalid (line: -, column: -)", i),
			})
			return
		}
	}

	now := s.now()
	s.mu.Lock()
	if s.answerRepeatLocked(w, retryKey, now) {
		s.mu.Unlock()
		return
	}
	// Unknown users and users who blocked the account are skipped
	// silently: LINE answers 200 and delivers to the others.
	var targets []*customer
	seen := make(map[string]bool, len(to))
	for _, id := range to {
		if c, ok := s.customers[id]; ok && c.Following && !seen[id] {
			targets = append(targets, c)
		}
		seen[id] = true
	}
	if !s.quotaAllowsLocked(len(targets) * len(msgs)) {
		s.mu.Unlock()
		writeError(w, http.StatusTooManyRequests, errorBody{Message: msgMonthlyLimit})
		return
	}
	if retryKey != "" {
		s.retryKeys[retryKey] = acceptedPush{requestID: reqID, at: now}
	}
	unit = s.countUnitLocked(unit, now)
	var delivered []Delivery
	for _, c := range targets {
		delivered = append(delivered, s.deliverLocked(c, msgs, sendInfo{via: ViaMulticast, retryKey: retryKey, reqID: reqID, unit: unit}, now)...)
	}
	s.mu.Unlock()

	s.notify(delivered)
	// LINE answers a multicast with an empty object.
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) handleReply(w http.ResponseWriter, r *http.Request, reqID string) {
	// LINE rejects a retry key on the APIs that do not support one.
	if r.Header.Get("X-Line-Retry-Key") != "" {
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRetryForbidden})
		return
	}
	req, msgs, ok := decodeSend(w, r, "replyToken", false)
	if !ok {
		return
	}

	now := s.now()
	s.mu.Lock()
	tok, ok := s.replyTokens[*req.ReplyToken]
	if !ok || tok.used || !now.Before(tok.expires) {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, errorBody{Message: msgInvalidReply})
		return
	}
	tok.used = true
	sent := s.newSentMessagesLocked(len(msgs))
	var delivered []Delivery
	// Replies are free: they do not count against the monthly quota.
	if c := s.customers[tok.userID]; c != nil && c.Following {
		delivered = s.deliverLocked(c, msgs, sendInfo{via: ViaReply, reqID: reqID, sent: sent}, now)
	}
	s.mu.Unlock()

	s.notify(delivered)
	writeJSON(w, http.StatusOK, sendResponse{SentMessages: sent})
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.Lock()
	c, ok := s.customers[r.PathValue("userId")]
	found := ok && c.Following
	var p profileResponse
	if found {
		p = profileResponse{
			DisplayName: c.DisplayName,
			UserID:      c.UserID,
			PictureURL:  c.PictureURL,
			Language:    c.Language,
		}
	}
	s.mu.Unlock()
	// LINE answers 404 alike for unknown users, non-friends and users
	// who blocked the account.
	if !found {
		writeError(w, http.StatusNotFound, errorBody{Message: msgNotFound})
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// checkRetryKey reads X-Line-Retry-Key; a present but malformed key is
// answered with LINE's 400.
func checkRetryKey(w http.ResponseWriter, r *http.Request) (string, bool) {
	key := r.Header.Get("X-Line-Retry-Key")
	if key != "" && !isRetryKey(key) {
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRetryInvalid})
		return "", false
	}
	return key, true
}

// answerRepeatLocked answers 409 if retryKey was accepted in the last 24
// hours, as LINE does, and reports whether it did.
func (s *Server) answerRepeatLocked(w http.ResponseWriter, retryKey string, now time.Time) bool {
	if retryKey == "" {
		return false
	}
	prev, ok := s.retryKeys[retryKey]
	if !ok || now.Sub(prev.at) >= RetryKeyTTL {
		return false
	}
	w.Header().Set("X-Line-Accepted-Request-Id", prev.requestID)
	writeError(w, http.StatusConflict, errorBody{Message: msgRetryAccepted, SentMessages: prev.sent})
	return true
}

// quotaAllowsLocked counts n messages against the monthly quota, or
// reports that they do not fit.
func (s *Server) quotaAllowsLocked(n int) bool {
	if s.quota > 0 && s.used+int64(n) > s.quota {
		return false
	}
	s.used += int64(n)
	return true
}

// decodeSend reads and validates a push, reply or multicast body; target
// names the field that says where the messages go ("to" or "replyToken").
// On failure it has written LINE's error response and returns ok false.
func decodeSend(w http.ResponseWriter, r *http.Request, target string, multi bool) (req sendRequest, msgs []message, ok bool) {
	body, ok := readJSON(w, r)
	if !ok {
		return req, nil, false
	}
	// Decode into the endpoint's own types first, so that a mistyped
	// field is reported with its position, as LINE does.
	var typed any = &struct {
		To         *string           `json:"to"`
		ReplyToken *string           `json:"replyToken"`
		Messages   []json.RawMessage `json:"messages"`
	}{}
	if multi {
		typed = &struct {
			To       []string          `json:"to"`
			Messages []json.RawMessage `json:"messages"`
		}{}
	}
	if msg, bad := jsonError(body, json.Unmarshal(body, typed)); bad {
		writeError(w, http.StatusBadRequest, errorBody{Message: msg})
		return req, nil, false
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, errorBody{Message: "The request body could not be parsed as JSON (line: -, column: -)"})
		return req, nil, false
	}

	var details []errorDetail
	empty := false
	switch target {
	case "replyToken":
		empty = req.ReplyToken == nil || *req.ReplyToken == ""
	default:
		empty = len(req.To) == 0 || string(req.To) == "null" || string(req.To) == `""`
	}
	if empty {
		details = append(details, errorDetail{Message: "May not be empty", Property: target})
	}
	msgs, details, ok = checkMessages(w, req.Messages, details)
	if !ok {
		return req, nil, false
	}
	if len(details) > 0 {
		writeDetails(w, details)
		return req, nil, false
	}
	return req, msgs, true
}

// readJSON reads a JSON request body, answering 415 and 413 as LINE does.
func readJSON(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, errorBody{
			Message: fmt.Sprintf("The content type, '%s', is not supported", r.Header.Get("Content-Type")),
		})
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeError(w, http.StatusRequestEntityTooLarge, errorBody{Message: msgTooLarge})
		} else {
			writeError(w, http.StatusBadRequest, errorBody{Message: "The request body could not be read"})
		}
		return nil, false
	}
	return body, true
}

func writeDetails(w http.ResponseWriter, details []errorDetail) {
	writeError(w, http.StatusBadRequest, errorBody{
		Message: fmt.Sprintf("The request body has %d error(s)", len(details)),
		Details: details,
	})
}

// checkMessages applies LINE's rules to message objects and appends the
// property errors to details. A message object the simulator does not know
// gets LINE's answer for an invalid one at once (ok false).
func checkMessages(w http.ResponseWriter, raws []json.RawMessage, details []errorDetail) ([]message, []errorDetail, bool) {
	if n := len(raws); n < 1 || n > maxMessages {
		details = append(details, errorDetail{
			Message:  fmt.Sprintf("Size must be between 1 and %d", maxMessages),
			Property: "messages",
		})
	}
	var msgs []message
	for i, raw := range raws {
		var m struct {
			Type               string          `json:"type"`
			Text               *string         `json:"text"`
			PackageID          string          `json:"packageId"`
			StickerID          string          `json:"stickerId"`
			OriginalContentURL string          `json:"originalContentUrl"`
			PreviewImageURL    string          `json:"previewImageUrl"`
			AltText            *string         `json:"altText"`
			Contents           json.RawMessage `json:"contents"`
			Title              string          `json:"title"`
		}
		if json.Unmarshal(raw, &m) != nil || !knownMessageTypes[m.Type] {
			writeError(w, http.StatusBadRequest, errorBody{
				Message: fmt.Sprintf("A message (messages[%d]) in the request body is invalid", i),
			})
			return nil, nil, false
		}
		prop := func(f string) string { return fmt.Sprintf("messages[%d].%s", i, f) }
		bad := len(details)
		msg := message{typ: m.Type, raw: append([]byte(nil), raw...)}
		switch m.Type {
		case "text":
			switch {
			case m.Text == nil || *m.Text == "":
				details = append(details, errorDetail{Message: "May not be empty", Property: prop("text")})
			case utf16Len(*m.Text) > maxTextLength:
				details = append(details, errorDetail{
					Message:  fmt.Sprintf("Length must be between 0 and %d", maxTextLength),
					Property: prop("text"),
				})
			default:
				msg.text = *m.Text
			}
		case "sticker":
			if m.PackageID == "" {
				details = append(details, errorDetail{Message: "May not be empty", Property: prop("packageId")})
			}
			if m.StickerID == "" {
				details = append(details, errorDetail{Message: "May not be empty", Property: prop("stickerId")})
			}
			msg.text = m.PackageID + "/" + m.StickerID
		case "image", "video":
			for _, f := range []struct{ name, v string }{{"originalContentUrl", m.OriginalContentURL}, {"previewImageUrl", m.PreviewImageURL}} {
				if !strings.HasPrefix(f.v, "https://") || len(f.v) > 2000 {
					details = append(details, errorDetail{Message: "Must be a valid HTTPS URL", Property: prop(f.name)})
				}
			}
		case "flex", "template", "imagemap":
			limit := maxAltText
			if m.Type == "template" {
				limit = maxTemplateAltText
			}
			switch {
			case m.AltText == nil || *m.AltText == "":
				details = append(details, errorDetail{Message: "May not be empty", Property: prop("altText")})
			case utf16Len(*m.AltText) > limit:
				details = append(details, errorDetail{
					Message: fmt.Sprintf("Length must be between 0 and %d", limit), Property: prop("altText"),
				})
			default:
				msg.text = *m.AltText
			}
			if m.Type == "flex" {
				if d, bad := checkFlex(m.Contents, prop("contents")); bad {
					details = append(details, d)
				}
			}
		case "location":
			msg.text = m.Title
		}
		if len(details) == bad {
			msgs = append(msgs, msg)
		}
	}
	return msgs, details, true
}

// knownMessageTypes are the message objects the simulator accepts.
var knownMessageTypes = map[string]bool{
	"text": true, "sticker": true, "image": true, "video": true, "audio": true,
	"location": true, "imagemap": true, "template": true, "flex": true,
}

// checkFlex applies LINE's size limits to a flex message's contents.
func checkFlex(contents json.RawMessage, prop string) (errorDetail, bool) {
	var c struct {
		Type     string            `json:"type"`
		Contents []json.RawMessage `json:"contents"`
	}
	if len(contents) == 0 || json.Unmarshal(contents, &c) != nil {
		return errorDetail{Message: "May not be empty", Property: prop}, true
	}
	switch c.Type {
	case "bubble":
		if len(contents) > maxFlexBubble {
			return errorDetail{Message: "Size of bubble must be less than 30KB", Property: prop}, true
		}
	case "carousel":
		if len(c.Contents) == 0 || len(c.Contents) > maxFlexBubbles {
			return errorDetail{Message: fmt.Sprintf("Size must be between 1 and %d", maxFlexBubbles), Property: prop + ".contents"}, true
		}
		if len(contents) > maxFlexCarousel {
			return errorDetail{Message: "Size of carousel must be less than 50KB", Property: prop}, true
		}
	default:
		return errorDetail{Message: "Must be one of the following values: [bubble, carousel]", Property: prop + ".type"}, true
	}
	return errorDetail{}, false
}

// jsonError turns a decoding error into LINE's message for it.
func jsonError(body []byte, err error) (msg string, bad bool) {
	if err == nil {
		return "", false
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		line, col := position(body, se.Offset)
		return fmt.Sprintf("The request body could not be parsed as JSON (line: %d, column: %d)", line, col), true
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		line, col := position(body, te.Offset)
		prop := te.Field
		if prop == "" {
			prop = "-"
		}
		return fmt.Sprintf("The property, '%s', in the request body is invalid (line: %d, column: %d)", prop, line, col), true
	}
	return "The request body could not be parsed as JSON (line: -, column: -)", true
}

// position converts a decoding error's offset (the number of bytes read
// when the error was found) into the 1-based line and column of the byte
// that caused it.
func position(body []byte, offset int64) (line, col int) {
	i := int(min(max(offset-1, 0), int64(len(body))))
	before := body[:i]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = i - bytes.LastIndexByte(before, '\n')
	return line, col
}

// newSentMessagesLocked assigns message IDs and quote tokens for n
// accepted messages.
func (s *Server) newSentMessagesLocked(n int) []sentMessage {
	sent := make([]sentMessage, n)
	for i := range sent {
		s.nextMsgID++
		sent[i] = sentMessage{ID: strconv.FormatUint(s.nextMsgID, 10), QuoteToken: newQuoteToken()}
	}
	return sent
}

// sendInfo is what a send's deliveries share.
type sendInfo struct {
	via, retryKey, reqID string
	unit                 string        // counted aggregation unit, or ""
	sent                 []sentMessage // IDs LINE answered with (push, reply)
}

// deliverLocked puts msgs on c's phone and returns the deliveries for
// OnDelivery.
func (s *Server) deliverLocked(c *customer, msgs []message, si sendInfo, now time.Time) []Delivery {
	out := make([]Delivery, 0, len(msgs))
	for i, m := range msgs {
		d := Delivery{UserID: c.UserID, Type: m.typ, Text: m.text, Message: m.raw, Via: si.via,
			RetryKey: si.retryKey, RequestID: si.reqID, Seq: i + 1, Unit: si.unit, At: now}
		if i < len(si.sent) {
			d.MessageID = si.sent[i].ID
		}
		c.deliveries = append(c.deliveries, d)
		c.chat = append(c.chat, PhoneMessage{From: FromOfficial, Type: m.typ, Text: m.text, At: now})
		out = append(out, d)
	}
	return out
}

func (s *Server) notify(ds []Delivery) {
	if s.onDelivery == nil {
		return
	}
	for _, d := range ds {
		s.onDelivery(d)
	}
}

func writeError(w http.ResponseWriter, status int, body errorBody) {
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		// Only the package's own plain structs are encoded here.
		panic(fmt.Sprintf("linesim: encode response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}
