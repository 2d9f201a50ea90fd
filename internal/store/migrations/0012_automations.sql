-- Automated messages (package automation): welcome steps after a follow and
-- date reminders (maturity, contract anniversary, birthday). Times are unix
-- ms; dates are 'YYYY-MM-DD' in the rule's time zone.

CREATE TABLE automations (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL CHECK (kind IN ('welcome','date')),
    spec             TEXT NOT NULL,                 -- JSON: automation.Spec (rules, content, timing)
    status           TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','active','paused')),
    version          INTEGER NOT NULL DEFAULT 1,    -- +1 on every edit; an approval is of one version
    author           TEXT NOT NULL,
    approved_by      TEXT NOT NULL DEFAULT '',
    approved_version INTEGER NOT NULL DEFAULT 0,
    approved_at      INTEGER NOT NULL DEFAULT 0,
    checked_through  TEXT NOT NULL DEFAULT '',      -- date rules: the last local day fully decided
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- One row per occurrence (rule + customer + occurrence date, or rule + LINE
-- user + welcome step), written with the outbox send (LINE retry keys) in
-- one transaction before anything is sent; email and SMS go through
-- campaign.Notifier under idem_key. A unique key is sent at most once.
CREATE TABLE automation_occurrences (
    id             INTEGER PRIMARY KEY,
    automation_id  INTEGER NOT NULL REFERENCES automations(id) ON DELETE CASCADE,
    idem_key       TEXT NOT NULL UNIQUE,
    customer_id    INTEGER,                        -- NULL: a welcome step to an unlinked friend
    line_user_id   TEXT NOT NULL DEFAULT '',
    occurs_on      TEXT NOT NULL,                  -- target local date ('YYYY-MM-DD') or 'step-N'
    due_at         INTEGER NOT NULL,               -- the scheduled instant
    channel        TEXT NOT NULL CHECK (channel IN ('line','email','sms','none')),
    address        TEXT NOT NULL DEFAULT '',       -- email or E.164 number for email/SMS
    status         TEXT NOT NULL CHECK (status IN ('sending','sent','failed','uncertain','skipped')),
    reason         TEXT NOT NULL DEFAULT '',       -- why skipped or failed
    outbox_send_id INTEGER,
    created_at     INTEGER NOT NULL,
    sent_at        INTEGER
);
CREATE INDEX automation_occurrences_by_rule ON automation_occurrences(automation_id, due_at);
CREATE INDEX automation_occurrences_sending ON automation_occurrences(outbox_send_id) WHERE status = 'sending';
-- An erased customer's occurrences lose the link but keep the count.
CREATE TRIGGER automation_occurrences_erase AFTER DELETE ON customers BEGIN
    UPDATE automation_occurrences SET customer_id = NULL, address = '' WHERE customer_id = OLD.id;
END;

-- Friends in a welcome series. A re-follow does not restart a series
-- (one row per rule and friend): a friend who blocked and came back has
-- seen the welcome already.
CREATE TABLE automation_welcome (
    automation_id INTEGER NOT NULL REFERENCES automations(id) ON DELETE CASCADE,
    line_user_id  TEXT NOT NULL,
    followed_at   INTEGER NOT NULL,
    next_step     INTEGER NOT NULL DEFAULT 0,
    stopped_at    INTEGER,
    stop_reason   TEXT NOT NULL DEFAULT '',          -- linked, replied, blocked, done
    PRIMARY KEY (automation_id, line_user_id)
) WITHOUT ROWID;
CREATE INDEX automation_welcome_by_user ON automation_welcome(line_user_id);
CREATE INDEX automation_occurrences_by_user ON automation_occurrences(line_user_id) WHERE line_user_id <> '';
-- Erasing a LINE user (package erasure deletes line_users) leaves no trace
-- of them here: series rows go, occurrences keep only their counts.
CREATE TRIGGER automation_line_user_erase AFTER DELETE ON line_users BEGIN
    DELETE FROM automation_welcome WHERE line_user_id = OLD.user_id;
    UPDATE automation_occurrences SET line_user_id = '', idem_key = 'erased:' || id WHERE line_user_id = OLD.user_id;
END;

-- Birthday and contract-anniversary reminders select by month and day.
-- Without these a reminder scans every customer (or product) row, each a
-- page decrypt; with them a day's reminders are an index range. Their cost
-- is one B-tree insert per NEW or CHANGED row of the nightly import (rows
-- whose hash is unchanged are not rewritten), about the cost of
-- products_by_maturity.
CREATE INDEX customers_by_birthday ON customers(substr(birth_date, 6)) WHERE birth_date <> '';
CREATE INDEX products_by_anniversary ON products(substr(opened_on, 6)) WHERE opened_on <> '' AND status = 'active';
