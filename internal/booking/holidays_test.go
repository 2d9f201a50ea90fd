package booking

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// The Cabinet Office's list (内閣府「国民の祝日について」, 令和6–9年) day by
// day, written out by hand from the published table rather than derived.
var cabinetOffice = map[int]string{
	2024: `01-01 元日, 01-08 成人の日, 02-11 建国記念の日, 02-12 振替休日, 02-23 天皇誕生日, 03-20 春分の日,
		04-29 昭和の日, 05-03 憲法記念日, 05-04 みどりの日, 05-05 こどもの日, 05-06 振替休日, 07-15 海の日,
		08-11 山の日, 08-12 振替休日, 09-16 敬老の日, 09-22 秋分の日, 09-23 振替休日, 10-14 スポーツの日,
		11-03 文化の日, 11-04 振替休日, 11-23 勤労感謝の日`,
	2025: `01-01 元日, 01-13 成人の日, 02-11 建国記念の日, 02-23 天皇誕生日, 02-24 振替休日, 03-20 春分の日,
		04-29 昭和の日, 05-03 憲法記念日, 05-04 みどりの日, 05-05 こどもの日, 05-06 振替休日, 07-21 海の日,
		08-11 山の日, 09-15 敬老の日, 09-23 秋分の日, 10-13 スポーツの日, 11-03 文化の日, 11-23 勤労感謝の日,
		11-24 振替休日`,
	2026: `01-01 元日, 01-12 成人の日, 02-11 建国記念の日, 02-23 天皇誕生日, 03-20 春分の日, 04-29 昭和の日,
		05-03 憲法記念日, 05-04 みどりの日, 05-05 こどもの日, 05-06 振替休日, 07-20 海の日, 08-11 山の日,
		09-21 敬老の日, 09-22 国民の休日, 09-23 秋分の日, 10-12 スポーツの日, 11-03 文化の日, 11-23 勤労感謝の日`,
	2027: `01-01 元日, 01-11 成人の日, 02-11 建国記念の日, 02-23 天皇誕生日, 03-21 春分の日, 03-22 振替休日,
		04-29 昭和の日, 05-03 憲法記念日, 05-04 みどりの日, 05-05 こどもの日, 07-19 海の日, 08-11 山の日,
		09-20 敬老の日, 09-23 秋分の日, 10-11 スポーツの日, 11-03 文化の日, 11-23 勤労感謝の日`,
	// The odd years: the enthronement (2019) and the Olympic moves.
	2019: `01-01 元日, 01-14 成人の日, 02-11 建国記念の日, 03-21 春分の日, 04-29 昭和の日, 04-30 国民の休日,
		05-01 即位の日, 05-02 国民の休日, 05-03 憲法記念日, 05-04 みどりの日, 05-05 こどもの日, 05-06 振替休日,
		07-15 海の日, 08-11 山の日, 08-12 振替休日, 09-16 敬老の日, 09-23 秋分の日, 10-14 体育の日,
		10-22 即位礼正殿の儀の行われる日, 11-03 文化の日, 11-04 振替休日, 11-23 勤労感謝の日`,
	2020: `01-01 元日, 01-13 成人の日, 02-11 建国記念の日, 02-23 天皇誕生日, 02-24 振替休日, 03-20 春分の日,
		04-29 昭和の日, 05-03 憲法記念日, 05-04 みどりの日, 05-05 こどもの日, 05-06 振替休日, 07-23 海の日,
		07-24 スポーツの日, 08-10 山の日, 09-21 敬老の日, 09-22 秋分の日, 11-03 文化の日, 11-23 勤労感謝の日`,
	2021: `01-01 元日, 01-11 成人の日, 02-11 建国記念の日, 02-23 天皇誕生日, 03-20 春分の日, 04-29 昭和の日,
		05-03 憲法記念日, 05-04 みどりの日, 05-05 こどもの日, 07-22 海の日, 07-23 スポーツの日, 08-08 山の日,
		08-09 振替休日, 09-20 敬老の日, 09-23 秋分の日, 11-03 文化の日, 11-23 勤労感謝の日`,
}

func TestHolidaysMatchTheCabinetOffice(t *testing.T) {
	for _, year := range slices.Sorted(maps.Keys(cabinetOffice)) {
		want := map[string]string{}
		for _, e := range strings.Split(cabinetOffice[year], ",") {
			md, name, _ := strings.Cut(strings.TrimSpace(e), " ")
			want[md] = name
		}
		got := map[string]string{}
		for d, name := range Holidays(year) {
			got[d.String()[5:]] = name
		}
		for md, name := range want {
			if got[md] != name {
				t.Errorf("%d-%s: got %q, want %q", year, md, got[md], name)
			}
		}
		for md, name := range got {
			if _, ok := want[md]; !ok {
				t.Errorf("%d-%s: %q is not a holiday", year, md, name)
			}
		}
	}
}

// Every year the product must cover (2019–2030) has the law's 16 named days
// (2019: 15, no 天皇誕生日, and the two enthronement days), and every 振替休日
// follows a run of holidays that starts on a Sunday.
func TestHolidaysShapeEveryYear(t *testing.T) {
	for year := 2019; year <= 2030; year++ {
		h := Holidays(year)
		named := 0
		for d, name := range h {
			if d.Year != year {
				t.Errorf("%d: %s outside the year", year, d)
			}
			switch name {
			case "振替休日":
				prev := d.AddDays(-1)
				for prev.Weekday() != 0 {
					if _, ok := h[prev]; !ok {
						t.Errorf("%s: 振替休日 not after a Sunday holiday", d)
						break
					}
					prev = prev.AddDays(-1)
				}
			case "国民の休日":
			default:
				named++
			}
		}
		want := 16
		if year == 2019 {
			want = 17 // 15 regular (no 天皇誕生日) + the two enthronement days
		}
		if named != want {
			t.Errorf("%d: %d named holidays, want %d", year, named, want)
		}
	}
}

func TestBankHoliday(t *testing.T) {
	for s, want := range map[string]bool{"2026-12-30": false, "2026-12-31": true, "2027-01-01": true, "2027-01-03": true,
		"2027-01-04": false, "2026-12-12": false} {
		d, _ := ParseDay(s)
		if BankHoliday(d) != want {
			t.Errorf("%s: BankHoliday %v", s, !want)
		}
	}
}
