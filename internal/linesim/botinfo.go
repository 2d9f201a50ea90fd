package linesim

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// EndpointBotInfo is GET /v2/bot/info.
const EndpointBotInfo = "botInfo"

// BotDisplayName is the simulated official account's name.
const BotDisplayName = "つなぐ信用金庫（サンドボックス）"

// BasicID is the simulated account's basic ID: "@" and 8 characters derived
// from its bot user ID, so it is stable for one server, as on LINE.
func (s *Server) BasicID() string {
	sum := sha256.Sum256([]byte(s.destination))
	return "@" + hex.EncodeToString(sum[:])[:3] + "sim" + hex.EncodeToString(sum[4:])[:2]
}

type botInfoResponse struct {
	UserID         string `json:"userId"`
	BasicID        string `json:"basicId"`
	DisplayName    string `json:"displayName"`
	ChatMode       string `json:"chatMode"`
	MarkAsReadMode string `json:"markAsReadMode"`
}

func (s *Server) handleBotInfo(w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, http.StatusOK, botInfoResponse{UserID: s.destination, BasicID: s.BasicID(), DisplayName: BotDisplayName,
		ChatMode: "chat", MarkAsReadMode: "manual"})
}
