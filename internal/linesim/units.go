package linesim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Aggregation units, as LINE documents them ("Get statistics of sent
// messages" and the Messaging API reference): a push or multicast may name
// one unit in customAggregationUnits; a name is 1 to 30 characters of
// [A-Za-z0-9_], case-sensitive; a channel may use DefaultUnitsPerMonth
// distinct names a month, counted afresh from the first of each month.
const (
	DefaultUnitsPerMonth = 1000
	maxUnitNameLength    = 30
	maxUnitsPerRequest   = 1
	// defaultUnitListLimit and maxUnitListLimit bound a page of
	// GET /v2/bot/message/aggregation/list.
	defaultUnitListLimit = 100
	maxUnitListLimit     = 100
)

// EndpointAggregationUnit names the "units used this month" endpoints for
// rate limits and faults.
const EndpointAggregationUnit = "aggregationUnit"

// jst is LINE's time zone for months and statistics dates (UTC+9, no DST).
var jst = time.FixedZone("JST", 9*60*60)

// unitMonth is the unit names a channel used in one JST month, in order of
// first use.
type unitMonth struct {
	names []string
	seen  map[string]bool
}

// IsUnitName reports whether name is a unit name LINE accepts:
// ^[a-zA-Z0-9_]{1,30}$.
func IsUnitName(name string) bool {
	if len(name) < 1 || len(name) > maxUnitNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// checkUnits validates a send's customAggregationUnits (absent, null and []
// mean none) and returns its one name. On failure it has written LINE's 400
// with the property that is wrong.
func checkUnits(w http.ResponseWriter, raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", true
	}
	var names []string
	if json.Unmarshal(raw, &names) != nil {
		writeError(w, http.StatusBadRequest, errorBody{
			Message: "The property, 'customAggregationUnits', in the request body is invalid (line: -, column: -)",
		})
		return "", false
	}
	if len(names) > maxUnitsPerRequest {
		writeDetails(w, []errorDetail{{
			Message:  fmt.Sprintf("Size must be between 0 and %d", maxUnitsPerRequest),
			Property: "customAggregationUnits",
		}})
		return "", false
	}
	if len(names) == 0 {
		return "", true
	}
	if !IsUnitName(names[0]) {
		writeDetails(w, []errorDetail{{
			Message:  fmt.Sprintf("must match \"^[a-zA-Z0-9_]{1,%d}$\"", maxUnitNameLength),
			Property: "customAggregationUnits[0]",
		}})
		return "", false
	}
	return names[0], true
}

// countUnitLocked counts unit among the names used in now's JST month and
// returns it, or "" if it is a new name past the month's limit: LINE still
// sends the message but aggregates no statistics under that name.
func (s *Server) countUnitLocked(unit string, now time.Time) string {
	if unit == "" {
		return ""
	}
	key := now.In(jst).Format("200601")
	m := s.insight.units[key]
	if m == nil {
		m = &unitMonth{seen: map[string]bool{}}
		s.insight.units[key] = m
	}
	if m.seen[unit] {
		return unit
	}
	if len(m.names) >= s.insight.unitsPerMonth {
		s.insight.overLimit++
		return ""
	}
	m.seen[unit] = true
	m.names = append(m.names, unit)
	return unit
}

// UnitsUsed returns the unit names used in the JST month of t, in order of
// first use.
func (s *Server) UnitsUsed(t time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.insight.units[t.In(jst).Format("200601")]; m != nil {
		return append([]string(nil), m.names...)
	}
	return nil
}

// UnitsOverLimit returns how many accepted sends named a unit that was not
// counted because the month's limit was reached.
func (s *Server) UnitsOverLimit() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insight.overLimit
}

func (s *Server) monthUnitsLocked() []string {
	if m := s.insight.units[s.now().In(jst).Format("200601")]; m != nil {
		return m.names
	}
	return nil
}

// handleUnitUsage is GET /v2/bot/message/aggregation/info.
func (s *Server) handleUnitUsage(w http.ResponseWriter, _ *http.Request, _ string) {
	s.mu.Lock()
	n := len(s.monthUnitsLocked())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		N int64 `json:"numOfCustomAggregationUnits"`
	}{int64(n)})
}

// handleUnitList is GET /v2/bot/message/aggregation/list?limit=&start=.
// next is an opaque continuation token, as on LINE; here it encodes the
// offset of the next name.
func (s *Server) handleUnitList(w http.ResponseWriter, r *http.Request, _ string) {
	limit := defaultUnitListLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxUnitListLimit {
			writeParamError(w, "limit", fmt.Sprintf("must be between 1 and %d", maxUnitListLimit))
			return
		}
		limit = n
	}
	start := 0
	if v := r.URL.Query().Get("start"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			writeParamError(w, "start", "invalid continuation token")
			return
		}
		start = n
	}
	s.mu.Lock()
	names := s.monthUnitsLocked()
	start = min(start, len(names))
	end := min(start+limit, len(names))
	page := append([]string{}, names[start:end]...)
	more := end < len(names)
	s.mu.Unlock()
	resp := struct {
		Units []string `json:"customAggregationUnits"`
		Next  string   `json:"next,omitempty"`
	}{Units: page}
	if more {
		resp.Next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	writeJSON(w, http.StatusOK, resp)
}
