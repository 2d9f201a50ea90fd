-- The friends dashboard (packages insights and dashboard).
--
-- LINE's daily friend counts (GET /v2/bot/insight/followers), one row per JST
-- date Tsunagu asked about, with LINE's status: 'unready' (LINE is still
-- counting the day; asked again later) or 'out_of_service' (before LINE
-- counted) carry no counts, never zeros in their place. A 'ready' row is
-- final and never asked again.
CREATE TABLE insight_followers (
    date             TEXT PRIMARY KEY,            -- 'YYYY-MM-DD', JST
    status           TEXT NOT NULL CHECK (status = 'ready' OR status = 'unready' OR status = 'out_of_service'),
    followers        INTEGER,                     -- NULL unless ready
    targeted_reaches INTEGER,
    blocks           INTEGER,
    checked_at       INTEGER NOT NULL             -- unix ms of the last request (counts against the hour's allowance)
) WITHOUT ROWID;
CREATE INDEX insight_followers_checked ON insight_followers (checked_at);

-- LINE's latest estimate of who the friends are (GET
-- /v2/bot/insight/demographic): one row. available = 0 while LINE has too
-- few friends to show it (its threshold is 20); shares is then '{}'.
CREATE TABLE insight_demographics (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    available  INTEGER NOT NULL CHECK (available = 0 OR available = 1),
    shares     TEXT NOT NULL,                     -- JSON: {"genders":[{"key":"female","percentage":52.3}],"ages":[…],"areas":[…]}
    checked_at INTEGER NOT NULL
);

-- Tsunagu's own counts, one row per JST date: the scheduled work writes the
-- day's row again at each pass, so a past day keeps its last figures and
-- the dashboard has history beside LINE's. Counts only, never who.
CREATE TABLE own_counts (
    date          TEXT PRIMARY KEY,               -- 'YYYY-MM-DD', JST
    linked        INTEGER NOT NULL,               -- customers linked to a LINE user
    consent_line  INTEGER NOT NULL,               -- active customers with consent_line IS 1
    consent_email INTEGER NOT NULL,
    consent_sms   INTEGER NOT NULL,
    taken_at      INTEGER NOT NULL
) WITHOUT ROWID;
