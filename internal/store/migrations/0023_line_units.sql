-- LINE's own statistics per delivery (package insights). Each delivery (a
-- campaign; a reminder's sends in one JST month; a welcome step's sends in
-- one JST month) is sent under one customAggregationUnits name, and LINE
-- counts opens, clicks and plays per name. A channel may use 1,000 names a
-- JST month: a delivery that starts past that is sent without one (unit
-- NULL) and has no LINE statistics; the send itself never fails for it.
-- stats holds LINE's figures as JSON with each figure's withheld flag (LINE
-- shows nothing under 20 people): NULL until LINE has aggregated anything,
-- never zeros in place of "not yet" or "withheld".
CREATE TABLE line_units (
    delivery      TEXT PRIMARY KEY,             -- 'campaign:12', 'automation:5:202612', 'automation:5:step:2:202612'
    unit          TEXT UNIQUE,                  -- NULL: sent without a unit (the month's limit was reached)
    month         TEXT NOT NULL,                -- JST yyyymm the name counts against
    first_sent_at INTEGER NOT NULL,             -- unix ms
    last_sent_at  INTEGER NOT NULL,
    checked_at    INTEGER,                      -- when LINE was last asked
    stats         TEXT,
    stats_at      INTEGER,                      -- when stats was fetched
    final         INTEGER NOT NULL DEFAULT 0    -- 1: fetched after LINE's 14-day window closed; frozen
);
CREATE INDEX line_units_month ON line_units (month) WHERE unit IS NOT NULL;
CREATE INDEX line_units_checked ON line_units (checked_at) WHERE unit IS NOT NULL AND final = 0;

-- The unit an outbox send (reminder, welcome step) carries; every retry of
-- its requests repeats it. '' = none.
ALTER TABLE outbox_sends ADD COLUMN agg_unit TEXT NOT NULL DEFAULT '';
