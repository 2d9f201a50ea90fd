-- Prefill without exposure (issue 21, docs/forms.md). A form question may be
-- filled from a customer field (forms.Question.prefill, in the questions
-- JSON); a link sent to one customer carries the values sealed with a key
-- that travels only in the link's fragment. Times are unix ms.

-- How long the relay keeps a link's sealed values (days, 1..30).
ALTER TABLE forms ADD COLUMN prefill_days INTEGER NOT NULL DEFAULT 7;

-- One row per prefilled link sent. request_key is the clerk's send: a retry
-- reuses the row, so the same blob goes to the relay and one message to
-- LINE. link_key is the fragment's key, kept only until the message (which
-- carries it to the customer) is enqueued, then cleared. blob is the
-- ciphertext the relay holds; fields names the customer fields used (no
-- values). Erasing the customer or the LINE user deletes the rows.
CREATE TABLE form_prefills (
    id           INTEGER PRIMARY KEY,
    request_key  TEXT NOT NULL UNIQUE,
    form_id      INTEGER NOT NULL REFERENCES forms(id) ON DELETE CASCADE,
    line_user_id TEXT NOT NULL,
    customer_id  INTEGER REFERENCES customers(id) ON DELETE CASCADE, -- erasing the customer deletes their links' rows
    blob_id      TEXT NOT NULL UNIQUE,
    blob         BLOB NOT NULL,
    link_key     BLOB,
    fields       TEXT NOT NULL,                       -- JSON ["name","address",...]
    expires_at   INTEGER NOT NULL,
    send_id      INTEGER,                             -- the outbox send, once enqueued
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX form_prefills_line_user ON form_prefills(line_user_id);

CREATE TRIGGER form_prefills_line_user_erase AFTER DELETE ON line_users BEGIN
    DELETE FROM form_prefills WHERE line_user_id = OLD.user_id;
END;
