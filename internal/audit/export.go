package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CSV renders entries for auditors: UTF-8 with a BOM (so Excel in Japan
// opens it correctly), one row per entry with its hashes, so the exported
// file can be checked against the chain later.
func CSV(entries []Entry) (string, error) {
	var b strings.Builder
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.Write([]string{"seq", "time", "actor", "action", "target", "detail", "prev_hash", "hash"})
	for _, e := range entries {
		detail := ""
		if len(e.Detail) > 0 {
			d, err := json.Marshal(e.Detail)
			if err != nil {
				return "", fmt.Errorf("audit: export entry %d: %w", e.Seq, err)
			}
			detail = string(d)
		}
		w.Write([]string{strconv.FormatInt(e.Seq, 10), time.UnixMilli(e.At).UTC().Format(time.RFC3339Nano), e.Actor, e.Action, neutralize(e.Target), neutralize(detail), e.PrevHash, e.Hash})
	}
	w.Flush()
	return b.String(), w.Error()
}

// neutralize stops spreadsheet formula injection: a cell starting with = + - @
// is prefixed with a quote.
func neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
