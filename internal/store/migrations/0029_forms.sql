-- Web forms (package forms, docs/forms.md, issue 21). A form is published to the relay as a static
-- definition (questions and texts, no customer data) at https://RELAY/f/TENANT/TOKEN; the customer's
-- phone seals the answers and their LINE ID token to this desktop, which verifies the token with LINE
-- and stores the answers here, against the LINE user (and the customer through customer_line_links).
CREATE TABLE forms (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    intro        TEXT NOT NULL DEFAULT '',
    questions    TEXT NOT NULL,                        -- JSON []forms.Question
    done         TEXT NOT NULL DEFAULT '',             -- shown on the page after sending
    thanks       TEXT NOT NULL DEFAULT '',             -- LINE message after an answer; '' = none
    status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    token        TEXT NOT NULL UNIQUE,                 -- 192 random bits, base64url: the URL's FORM
    version      INTEGER NOT NULL DEFAULT 0,           -- the published definition's version (ms)
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    published_at INTEGER                               -- NULL: the relay does not serve the current version
);

-- One row per submission (submit_id: the phone's random ID, so a double submit or a redelivery is
-- stored once). The answers are customer data: only in this encrypted DB; erasure removes them.
CREATE TABLE form_answers (
    submit_id    TEXT PRIMARY KEY,
    form_id      INTEGER NOT NULL REFERENCES forms(id),
    line_user_id TEXT NOT NULL,
    answers      TEXT NOT NULL,                        -- JSON question ID -> string or [string]
    received_at  INTEGER NOT NULL,                     -- at the relay
    stored_at    INTEGER NOT NULL,
    thanks_send  INTEGER                               -- the outbox send of the thank-you message
) WITHOUT ROWID;
CREATE INDEX form_answers_by_form ON form_answers(form_id, stored_at);
CREATE INDEX form_answers_by_user ON form_answers(line_user_id);

-- Each LINE ID token is accepted for one submission: the same token in another submission is a replay.
-- Kept by hash (never the token) until well after the token's expiry.
CREATE TABLE form_id_tokens (
    token_hash TEXT PRIMARY KEY,
    submit_id  TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Submissions refused (forged, expired or replayed ID token, unknown form, unreadable): never answers.
-- The opened submission is kept in this encrypted DB for investigation (body), once per submit_id and
-- reason, and counted on the form's results.
CREATE TABLE form_rejects (
    id          INTEGER PRIMARY KEY,
    form_id     INTEGER REFERENCES forms(id),
    submit_id   TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('forged', 'expired', 'replayed', 'unknown_form', 'malformed')),
    body        BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (submit_id, reason)
);
CREATE INDEX form_rejects_by_form ON form_rejects(form_id);

-- Erasing a LINE user (package erasure deletes line_users) removes their form answers.
CREATE TRIGGER form_answers_line_user_erase AFTER DELETE ON line_users BEGIN
    DELETE FROM form_answers WHERE line_user_id = OLD.user_id;
END;

-- The LIFF app forms run in (one row): the LINE Login channel linked to the official account, whose ID
-- tokens the desktop verifies, and the LIFF app's ID the page initialises. Not secret (both are in every
-- form page); docs/install.md says how IT creates them.
CREATE TABLE form_settings (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    login_channel_id TEXT NOT NULL DEFAULT '',
    liff_id          TEXT NOT NULL DEFAULT ''
);
INSERT INTO form_settings (id) VALUES (1);
