package autoreply

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"tsunagu/internal/fielderr"
)

// The rule and the hours name every wrong field at once, by the paths the
// inbox settings form marks.
func TestValidationNamesTheWrongFields(t *testing.T) {
	err := Rule{Keyword: "  ", Match: "regex", Reply: strings.Repeat("あ", 5001)}.validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("rule: %v", err)
	}
	if got := fmt.Sprint(fielderr.Fields(err)); got != "[{keyword errors.fieldRequired 0 0} {match errors.fieldChoose 0 0} {reply errors.fieldTooLong 5000 0}]" {
		t.Errorf("rule fields: %s", got)
	}
	if err := (Rule{Keyword: "営業時間", Match: MatchContains, Reply: "9時から"}).validate(); err != nil {
		t.Errorf("a good rule: %v", err)
	}

	st := Settings{TimeZone: "Mars/Base", Holidays: []string{"2026-12-31", "12/31"}, AwayEnabled: true, AwayIntervalHours: 0}
	st.Week[1] = Day{Open: "15:00", Close: "09:00"}
	st.Week[2] = Day{Open: "9時", Close: "15:00"}
	st.Week[3] = Day{Open: "09:00", Close: "25:00"}
	st.Week[0] = Day{Closed: true, Open: "bad"}
	for d := 4; d < 7; d++ {
		st.Week[d] = Day{Open: "09:00", Close: "15:00"}
	}
	err = st.Validate()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("settings: %v", err)
	}
	want := "[{timeZone errors.fieldChoose 0 0} {week.1.close errors.fieldRange 0 0} {week.2.open errors.fieldFormat 0 0} {week.3.close errors.fieldFormat 0 0} " +
		"{holidays.1 errors.fieldFormat 0 0} {awayText errors.fieldRequired 0 0} {awayIntervalHours errors.fieldBetween 168 1}]"
	if got := fmt.Sprint(fielderr.Fields(err)); got != want {
		t.Errorf("settings fields:\n got %s\nwant %s", got, want)
	}
}
