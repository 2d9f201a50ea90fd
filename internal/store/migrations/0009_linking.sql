-- Linking LINE users to customers with one-time codes (package linking).
-- Times are unix ms. The link itself is customer_line_links (0003).

-- The per-install key of the code hashes: the DB stores only
-- HMAC-SHA256(salt, code), so a leaked list of hashes is no list of codes.
CREATE TABLE link_secret (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    salt BLOB NOT NULL
);
INSERT INTO link_secret (id, salt) VALUES (1, randomblob(32));

-- One row per code ever issued. At most one open code per customer: issuing
-- a new one revokes the older (the partial unique index enforces it).
CREATE TABLE link_codes (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    code_hash    TEXT NOT NULL UNIQUE,              -- hex HMAC-SHA256(link_secret.salt, code)
    issued_by    TEXT NOT NULL,                     -- audit actor
    delivery     TEXT NOT NULL CHECK (delivery IN ('letter','email','sms')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    -- pending: not yet sent by anyone; verifying: sent by line_user_id,
    -- waiting for the identity check; then used, revoked or invalidated.
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending','verifying','used','revoked','invalidated')),
    line_user_id TEXT REFERENCES line_users(user_id) ON DELETE SET NULL, -- who sent it (erased with the user)
    id_failures  INTEGER NOT NULL DEFAULT 0,        -- wrong birth dates sent
    closed_at    INTEGER
);
CREATE INDEX link_codes_by_customer ON link_codes(customer_id);
CREATE UNIQUE INDEX link_codes_one_open ON link_codes(customer_id) WHERE state IN ('pending','verifying');
CREATE INDEX link_codes_verifying ON link_codes(line_user_id) WHERE state = 'verifying';

-- Codes sent by email or SMS: the row (with its idempotency key) is written
-- before the send, the outcome after.
CREATE TABLE link_code_deliveries (
    id              INTEGER PRIMARY KEY,
    code_id         INTEGER NOT NULL REFERENCES link_codes(id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('email','sms')),
    destination     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);

-- Code messages that did not link (wrong, expired, used, throttled), per
-- LINE user: the rate limit counts the recent ones.
CREATE TABLE link_attempts (
    id           INTEGER PRIMARY KEY,
    line_user_id TEXT NOT NULL REFERENCES line_users(user_id) ON DELETE CASCADE,
    at           INTEGER NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('wrong','expired','used','throttled'))
);
CREATE INDEX link_attempts_by_user ON link_attempts(line_user_id, at);
