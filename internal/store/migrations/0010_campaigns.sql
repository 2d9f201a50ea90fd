-- Segments, campaigns with approval, per-recipient deliveries (LINE through the outbox, email and SMS
-- with their own idempotency keys), one-off notifications, and the email/SMS delivery settings.
-- Queries live in packages segment and campaign. Times are unix ms.

-- A saved segment: a JSON rule tree (package segment) compiled to one parameterised query.
CREATE TABLE segments (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    rules      TEXT NOT NULL,                       -- JSON rule tree
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A campaign. version grows with every edit; an approval is valid only for the version it approved,
-- so any edit after approval resets it (enforced in package campaign).
CREATE TABLE campaigns (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL,
    segment_id       INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    rules            TEXT NOT NULL,                 -- the campaign's own copy of the rule tree
    content          TEXT NOT NULL,                 -- JSON: LINE messages, email, SMS
    channels         TEXT NOT NULL,                 -- JSON array: channel order, e.g. ["line","email","sms"]
    status           TEXT NOT NULL DEFAULT 'draft' CHECK (status IN
                     ('draft','approved','scheduled','sending','paused','done','cancelled')),
    version          INTEGER NOT NULL DEFAULT 1,
    author           TEXT NOT NULL,                 -- staff login
    approved_by      TEXT NOT NULL DEFAULT '',
    approved_version INTEGER NOT NULL DEFAULT 0,
    approved_at      INTEGER,
    scheduled_at     INTEGER,                       -- unix ms (UTC instant)
    time_zone        TEXT NOT NULL DEFAULT 'Asia/Tokyo',
    started_at       INTEGER,
    finished_at      INTEGER,
    error            TEXT NOT NULL DEFAULT '',      -- why the last run stopped (never customer data)
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX campaigns_due ON campaigns(scheduled_at) WHERE status = 'scheduled';

-- The customers a campaign's segment matched, frozen in the transaction that starts the send (with the
-- first recipients' rows and LINE requests): the segment is never evaluated again for that campaign, not
-- even after a crash. The rest of the rows are expanded from it in chunks while the first requests are in
-- flight (package campaign, expand.go); customer_ids is emptied once every customer has a row.
CREATE TABLE campaign_targets (
    campaign_id  INTEGER PRIMARY KEY REFERENCES campaigns(id) ON DELETE CASCADE,
    customer_ids BLOB NOT NULL,                     -- ascending customer IDs, delta-encoded uvarints
    total        INTEGER NOT NULL,                  -- how many the segment matched
    expanded_at  INTEGER                            -- every matched customer has their row (NULL: not yet)
);

-- One row per customer the snapshot holds, written chunk by chunk with the LINE requests (and their retry
-- keys) that carry them, each chunk before any of its requests is sent. channel 'none' rows are the skipped
-- ones, with their reason. address is the email address or mobile number (E.164) the send goes to, fixed
-- at that moment; a LINE recipient's user ID is in its request's recipients.
-- Email/SMS rows go pending -> sending (committed before the provider is called) -> sent/failed; a row
-- found 'sending' after a crash is 'uncertain': reported for a person to check, never resent blindly.
-- A LINE row's state is its request's (one write per request of up to 500, not per recipient).
-- The CHECKs are OR chains, not IN lists: SQLite builds an IN list's lookup table again for every row a
-- CHECK tests, which made each insert ~5 us slower (0.5 s of a 100,000-recipient campaign).
CREATE TABLE campaign_recipients (
    campaign_id  INTEGER NOT NULL,                  -- campaigns(id); campaigns are never deleted
    customer_id  INTEGER NOT NULL,                  -- customers(id); erasure deletes the rows (trigger below)
    channel      TEXT NOT NULL CHECK (channel = 'line' OR channel = 'email' OR channel = 'sms' OR channel = 'none'),
    skip_reason  TEXT NOT NULL DEFAULT '' CHECK (skip_reason = '' OR skip_reason = 'no_consent' OR skip_reason = 'blocked'
                     OR skip_reason = 'no_contact' OR skip_reason = 'inactive' OR skip_reason = 'duplicate'),
    address      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status = 'skipped' OR status = 'queued' OR status = 'pending' OR status = 'sending'
                     OR status = 'sent' OR status = 'failed' OR status = 'uncertain'),
                                                    -- LINE rows stay 'queued': their outcome is their request's
    idem_key     TEXT,                              -- email/SMS idempotency key (NULL for LINE and skipped)
    line_request INTEGER,                           -- LINE: campaign_line_requests.id that carries this recipient
    provider_id  TEXT NOT NULL DEFAULT '',          -- SMS provider's message ID, email Message-ID
    error        TEXT NOT NULL DEFAULT '',
    attempted_at INTEGER,
    sent_at      INTEGER,
    PRIMARY KEY (campaign_id, customer_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX campaign_recipients_idem ON campaign_recipients(idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX campaign_recipients_todo ON campaign_recipients(campaign_id, channel, status)
    WHERE status IN ('pending','sending');
-- Not foreign keys: checking two of them would cost each of a campaign's 100,000 recipient rows two more
-- B-tree searches at materialisation. Erasing a customer (APPI) still removes their rows, by this trigger;
-- with no index on customer_id it scans the table once, which a rare, one-at-a-time erasure can afford
-- better than every campaign a B-tree insert per recipient. (A snapshot still being expanded may hold the
-- erased customer's ID, a bare number; the expansion finds no customer and writes no row for it.)
CREATE TRIGGER campaign_recipients_erase AFTER DELETE ON customers BEGIN
    DELETE FROM campaign_recipients WHERE customer_id = OLD.id;
END;

-- LINE: recipients with identical personalised content form a group; each group is sent as pushes or
-- multicasts of at most 500. Like the outbox (0002), every request's retry key and recipients are stored
-- with the recipients' rows, before the request is sent, and a resend is byte-identical with the same key. The
-- campaign keeps its own rows (rather than outbox_sends) so that pausing a campaign also holds its LINE
-- requests: the app's outbox resume at start would otherwise send them.
CREATE TABLE campaign_line_groups (
    campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    group_no    INTEGER NOT NULL,
    messages    BLOB NOT NULL,                      -- JSON array of LINE message objects, as sent
    PRIMARY KEY (campaign_id, group_no)
) WITHOUT ROWID;

CREATE TABLE campaign_line_requests (
    id                  INTEGER PRIMARY KEY,
    campaign_id         INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
    group_no            INTEGER NOT NULL,
    kind                TEXT NOT NULL CHECK (kind = 'push' OR kind = 'multicast'),
    retry_key           TEXT NOT NULL UNIQUE,        -- X-Line-Retry-Key (UUID)
    recipients          TEXT NOT NULL,               -- LINE user IDs, one per line, in request order
    recipient_count     INTEGER NOT NULL,
    status              TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'sent' OR status = 'failed'),
    attempts            INTEGER NOT NULL DEFAULT 0,
    first_tried_at      INTEGER,
    http_status         INTEGER NOT NULL DEFAULT 0,
    request_id          TEXT NOT NULL DEFAULT '',
    accepted_request_id TEXT NOT NULL DEFAULT '',    -- LINE answered 409: the earlier request delivered it
    error               TEXT NOT NULL DEFAULT '',
    sent_at             INTEGER
);
CREATE INDEX campaign_line_requests_pending ON campaign_line_requests(campaign_id) WHERE status = 'pending';

-- One-off email/SMS notifications from other features (e.g. linking codes), idempotent per key.
CREATE TABLE notifications (
    idem_key    TEXT PRIMARY KEY,
    channel     TEXT NOT NULL CHECK (channel IN ('email','sms')),
    status      TEXT NOT NULL CHECK (status IN ('sending','sent','failed')),
    provider_id TEXT NOT NULL DEFAULT '',
    error       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
) WITHOUT ROWID;

-- Email (SMTP) and SMS provider settings; passwords and tokens live in the keychain (secrets/delivery.go).
CREATE TABLE delivery_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Segment evaluation drives "has a 定期預金 maturing within N days" (the usual campaign) from this covering
-- index: Benchmark_segment_1m counts its segment in ~130 ms with it and ~400 ms without (products_by_maturity
-- then needs a table lookup per product to check type and status). The import pays one more B-tree insert
-- per product row. Consent, tag and LINE conditions are per-customer primary-key lookups and need no index.
CREATE INDEX products_by_type_maturity ON products(type, matures_on, customer_id) WHERE status = 'active';
