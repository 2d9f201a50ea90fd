package linesim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"unicode/utf8"
)

// EndpointWebhookEndpoint is PUT /v2/bot/channel/webhook/endpoint.
const EndpointWebhookEndpoint = "webhookEndpoint"

// LINE's limit on the webhook URL.
const maxWebhookEndpoint = 500

// handleSetWebhookEndpoint is LINE's set-webhook-endpoint API: the URL must
// be HTTPS and at most 500 characters. Like LINE, the simulator then posts
// webhooks there.
func (s *Server) handleSetWebhookEndpoint(w http.ResponseWriter, r *http.Request, _ string) {
	var req struct {
		Endpoint *string `json:"endpoint"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil || json.Unmarshal(body, &req) != nil || req.Endpoint == nil {
		writeError(w, http.StatusBadRequest, errorBody{Message: "The request body has 1 error(s)",
			Details: []errorDetail{{Message: "must be specified", Property: "endpoint"}}})
		return
	}
	ep := *req.Endpoint
	u, err := url.Parse(ep)
	switch {
	case utf8.RuneCountInString(ep) > maxWebhookEndpoint:
		writeError(w, http.StatusBadRequest, errorBody{Message: "The request body has 1 error(s)",
			Details: []errorDetail{{Message: "Size must be between 0 and 500", Property: "endpoint"}}})
		return
	case err != nil || u.Scheme != "https" || u.Host == "":
		writeError(w, http.StatusBadRequest, errorBody{Message: "Invalid webhook endpoint URL"})
		return
	}
	s.mu.Lock()
	s.webhookURL = ep
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct{}{})
}

// WebhookURL returns where webhooks are posted now.
func (s *Server) WebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL
}
