// Package insights gives every delivery LINE's own statistics: each
// campaign, reminder and welcome step is sent under a custom aggregation
// unit (Assign, in the transaction that stores the send), and a fetcher
// (Fetcher) asks LINE for each unit's figures on a schedule that keeps to
// LINE's delay and rate limit, storing them with their withheld flag.
//
// What LINE gives (see docs/insights.md): unique people who opened, tapped
// a URL, started or finished a video, per unit and per message bubble and
// URL; a day after the events; nothing (null) for a figure under 20 people;
// counted for 14 days after the send.
package insights

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"tsunagu/internal/line"
)

// MaxUnitsPerMonth is LINE's limit on aggregation unit names a channel may
// use in one JST month. LINE still sends past it but aggregates nothing
// for a new name, so Assign stops handing out names there.
const MaxUnitsPerMonth = 1000

// jst is LINE's time zone for months and statistics dates.
var jst = time.FixedZone("JST", 9*60*60)

// Delivery names one delivery for LINE's statistics: Key is stored and
// looked up; prefix starts its unit name.
type Delivery struct {
	Key    string
	prefix string
}

// Campaign is campaign id's delivery: one unit for the whole campaign.
func Campaign(id int64) Delivery {
	return Delivery{Key: CampaignKey(id), prefix: "c" + strconv.FormatInt(id, 10)}
}

// CampaignKey is the stored key of campaign id's delivery.
func CampaignKey(id int64) string { return "campaign:" + strconv.FormatInt(id, 10) }

// Reminder is a reminder automation's delivery for the JST month of at:
// a reminder sends a little every day, so one unit a month each keeps the
// month's 1,000 names for many rules and still reports month by month.
func Reminder(automationID int64, at time.Time) Delivery {
	m := month(at)
	return Delivery{Key: "automation:" + strconv.FormatInt(automationID, 10) + ":" + m,
		prefix: "a" + strconv.FormatInt(automationID, 10) + "_" + m}
}

// WelcomeStep is a welcome series step's delivery for the JST month of at
// (one unit per step and month, for the reason given at Reminder).
func WelcomeStep(automationID int64, step int, at time.Time) Delivery {
	m := month(at)
	return Delivery{Key: "automation:" + strconv.FormatInt(automationID, 10) + ":step:" + strconv.Itoa(step+1) + ":" + m,
		prefix: "a" + strconv.FormatInt(automationID, 10) + "s" + strconv.Itoa(step+1) + "_" + m}
}

func month(t time.Time) string { return t.In(jst).Format("200601") }

// unitName is d's unit name with a random tail: a reinstalled or restored
// Tsunagu numbers its campaigns again from 1 on the same channel, and LINE
// would add the new campaign's figures to the old one's under a repeated
// name.
func unitName(d Delivery) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("insights: unit name: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	name := d.prefix + "_" + string(b[:])
	if err := line.ValidateUnitName(name); err != nil {
		return "", fmt.Errorf("insights: unit name for %s: %w", d.Key, err)
	}
	return name, nil
}

// Assign returns the unit d is sent under, in tx (the transaction that
// stores the send, so the name is stored before anything leaves and every
// retry repeats it). The first call for d takes a new name, or none ("")
// when the month's MaxUnitsPerMonth are used: d is then recorded as a
// delivery without LINE statistics and sent anyway. A later call returns
// the same answer and moves the delivery's last send to now.
func Assign(ctx context.Context, tx *sql.Tx, d Delivery, now time.Time) (string, error) {
	if d.Key == "" || d.prefix == "" {
		return "", errors.New("insights: assign: empty delivery")
	}
	ms := now.UnixMilli()
	var unit sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT unit FROM line_units WHERE delivery = ?`, d.Key).Scan(&unit)
	switch {
	case err == nil:
		if _, err := tx.ExecContext(ctx, `UPDATE line_units SET last_sent_at = max(last_sent_at, ?) WHERE delivery = ?`, ms, d.Key); err != nil {
			return "", fmt.Errorf("insights: assign %s: %w", d.Key, err)
		}
		return unit.String, nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("insights: assign %s: %w", d.Key, err)
	}
	m := month(now)
	var used int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM line_units WHERE month = ? AND unit IS NOT NULL`, m).Scan(&used); err != nil {
		return "", fmt.Errorf("insights: count units of %s: %w", m, err)
	}
	var name any
	if used < MaxUnitsPerMonth {
		n, err := unitName(d)
		if err != nil {
			return "", err
		}
		name = n
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO line_units (delivery, unit, month, first_sent_at, last_sent_at) VALUES (?, ?, ?, ?, ?)`,
		d.Key, name, m, ms, ms); err != nil {
		return "", fmt.Errorf("insights: assign %s: %w", d.Key, err)
	}
	if name == nil {
		return "", nil
	}
	return name.(string), nil
}

// UnitOf returns the unit stored for delivery key ("" if none or not yet
// assigned).
func UnitOf(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, key string) (string, error) {
	var unit sql.NullString
	err := q.QueryRowContext(ctx, `SELECT unit FROM line_units WHERE delivery = ?`, key).Scan(&unit)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("insights: unit of %s: %w", key, err)
	}
	return unit.String, nil
}
