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
	maxMessages   = 5
	maxTextLength = 5000    // UTF-16 code units
	maxBody       = 2 << 20 // LINE refuses request bodies over 2 MB with 413
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

// endpoint is one simulated API. LINE applies some behaviour per endpoint,
// rate limits above all; they would hang off this table, checked in
// serveAPI after authentication and answered with 429.
type endpoint struct {
	pattern string
	serve   func(w http.ResponseWriter, r *http.Request, requestID string)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, ep := range []endpoint{
		{"POST /v2/bot/message/push", s.handlePush},
		{"POST /v2/bot/message/reply", s.handleReply},
		{"GET /v2/bot/profile/{userId}", s.handleProfile},
		{"/", func(w http.ResponseWriter, _ *http.Request, _ string) {
			writeError(w, http.StatusNotFound, errorBody{Message: msgNotFound})
		}},
	} {
		mux.Handle(ep.pattern, s.serveAPI(ep))
	}
	return mux
}

// serveAPI wraps an endpoint with what every LINE API response shares: an
// x-line-request-id header, and bearer-token authentication before anything
// else is looked at.
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
		ep.serve(w, r, reqID)
	})
}

// sendRequest is the body of push and reply, decoded loosely so that
// missing and mistyped fields can be reported the way LINE reports them.
type sendRequest struct {
	To         *string           `json:"to"`
	ReplyToken *string           `json:"replyToken"`
	Messages   []json.RawMessage `json:"messages"`
}

type textMessage struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, reqID string) {
	retryKey := r.Header.Get("X-Line-Retry-Key")
	if retryKey != "" && !isRetryKey(retryKey) {
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRetryInvalid})
		return
	}
	req, texts, ok := decodeSend(w, r, "to")
	if !ok {
		return
	}
	to := *req.To
	if !isRecipientID(to) {
		writeError(w, http.StatusBadRequest, errorBody{
			Message: "The property, 'to', in the request body is invalid (line: -, column: -)",
		})
		return
	}

	now := s.now()
	s.mu.Lock()
	if retryKey != "" {
		if prev, ok := s.retryKeys[retryKey]; ok && now.Sub(prev.at) < RetryKeyTTL {
			s.mu.Unlock()
			w.Header().Set("X-Line-Accepted-Request-Id", prev.requestID)
			writeError(w, http.StatusConflict, errorBody{Message: msgRetryAccepted, SentMessages: prev.sent})
			return
		}
	}
	c, ok := s.customers[to]
	if !ok {
		// What LINE answers for a well-formed ID it does not know,
		// such as one issued under another provider.
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, errorBody{Message: msgFailedToSend})
		return
	}
	sent := s.newSentMessagesLocked(len(texts))
	if retryKey != "" {
		s.retryKeys[retryKey] = acceptedPush{requestID: reqID, sent: sent, at: now}
	}
	// LINE accepts a push to a user who blocked the account (200) but
	// does not deliver it.
	var delivered []Delivery
	if c.Following {
		delivered = s.deliverLocked(c, texts, ViaPush, retryKey, reqID, now)
	}
	s.mu.Unlock()

	s.notify(delivered)
	writeJSON(w, http.StatusOK, sendResponse{SentMessages: sent})
}

func (s *Server) handleReply(w http.ResponseWriter, r *http.Request, reqID string) {
	// LINE rejects a retry key on the APIs that do not support one.
	if r.Header.Get("X-Line-Retry-Key") != "" {
		writeError(w, http.StatusBadRequest, errorBody{Message: msgRetryForbidden})
		return
	}
	req, texts, ok := decodeSend(w, r, "replyToken")
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
	sent := s.newSentMessagesLocked(len(texts))
	var delivered []Delivery
	if c := s.customers[tok.userID]; c != nil && c.Following {
		delivered = s.deliverLocked(c, texts, ViaReply, "", reqID, now)
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

// decodeSend reads and validates a push or reply body; target names the
// field that says where the messages go ("to" or "replyToken"). On failure
// it has written LINE's error response and returns ok false.
func decodeSend(w http.ResponseWriter, r *http.Request, target string) (req sendRequest, texts []string, ok bool) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, errorBody{
			Message: fmt.Sprintf("The content type, '%s', is not supported", r.Header.Get("Content-Type")),
		})
		return req, nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			writeError(w, http.StatusRequestEntityTooLarge, errorBody{Message: msgTooLarge})
		} else {
			writeError(w, http.StatusBadRequest, errorBody{Message: "The request body could not be read"})
		}
		return req, nil, false
	}
	if msg, bad := jsonError(body, json.Unmarshal(body, &req)); bad {
		writeError(w, http.StatusBadRequest, errorBody{Message: msg})
		return req, nil, false
	}

	var details []errorDetail
	dest := req.To
	if target == "replyToken" {
		dest = req.ReplyToken
	}
	if dest == nil || *dest == "" {
		details = append(details, errorDetail{Message: "May not be empty", Property: target})
	}
	if n := len(req.Messages); n < 1 || n > maxMessages {
		details = append(details, errorDetail{
			Message:  fmt.Sprintf("Size must be between 1 and %d", maxMessages),
			Property: "messages",
		})
	}
	for i, raw := range req.Messages {
		var m textMessage
		// The simulator models text messages only; any other message
		// object gets the answer LINE gives an invalid one.
		if json.Unmarshal(raw, &m) != nil || m.Type != "text" {
			writeError(w, http.StatusBadRequest, errorBody{
				Message: fmt.Sprintf("A message (messages[%d]) in the request body is invalid", i),
			})
			return req, nil, false
		}
		prop := fmt.Sprintf("messages[%d].text", i)
		switch {
		case m.Text == nil || *m.Text == "":
			details = append(details, errorDetail{Message: "May not be empty", Property: prop})
		case utf16Len(*m.Text) > maxTextLength:
			details = append(details, errorDetail{
				Message:  fmt.Sprintf("Length must be between 0 and %d", maxTextLength),
				Property: prop,
			})
		default:
			texts = append(texts, *m.Text)
		}
	}
	if len(details) > 0 {
		writeError(w, http.StatusBadRequest, errorBody{
			Message: fmt.Sprintf("The request body has %d error(s)", len(details)),
			Details: details,
		})
		return req, nil, false
	}
	return req, texts, true
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

// deliverLocked puts texts on c's phone and returns the deliveries for
// OnDelivery.
func (s *Server) deliverLocked(c *customer, texts []string, via, retryKey, reqID string, now time.Time) []Delivery {
	out := make([]Delivery, 0, len(texts))
	for _, t := range texts {
		d := Delivery{UserID: c.UserID, Text: t, Via: via, RetryKey: retryKey, RequestID: reqID, At: now}
		c.deliveries = append(c.deliveries, d)
		c.chat = append(c.chat, PhoneMessage{From: FromOfficial, Text: t, At: now})
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
