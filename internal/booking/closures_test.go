package booking

import (
	"errors"
	"reflect"
	"testing"
)

func TestLegalClosures(t *testing.T) {
	got, err := LegalClosures("2026-12-28", "2027-01-12")
	if err != nil {
		t.Fatal(err)
	}
	want := []ClosedDay{
		{Day: "2026-12-31"},
		{Day: "2027-01-01", Reason: "元日"},
		{Day: "2027-01-02"},
		{Day: "2027-01-03"},
		{Day: "2027-01-11", Reason: "成人の日"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("closures = %+v, want %+v", got, want)
	}
	if got, err := LegalClosures("2026-12-07", "2026-12-07"); err != nil || len(got) != 0 {
		t.Fatalf("an ordinary day: %+v, %v", got, err)
	}
	for _, r := range [][2]string{{"2026-12-10", "2026-12-09"}, {"2026-12-01", "2028-03-01"}, {"12/1", "2026-12-31"}} {
		if _, err := LegalClosures(r[0], r[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: err = %v, want ErrInvalid", r, err)
		}
	}
}
