-- Dead letters: webhook events the inbox could not store (a field of the
-- wrong type, a bug in a feature), kept instead of blocking the queue behind
-- them. Each holds a whole webhook body (destination and the one event, or a
-- signed body that was not a webhook at all) so it can be processed again
-- once the cause is fixed (tsunagu-cli deadletters retry). The body is
-- customer data: it lives only in this encrypted DB, and erasure removes a
-- LINE user's dead letters with their conversation.
CREATE TABLE dead_letters (
  id           INTEGER PRIMARY KEY,
  -- "ev:" + webhookEventId, or "sha:" + the body's SHA-256 when the event
  -- has none: a redelivered poison event is kept once.
  dedup_key    TEXT    NOT NULL UNIQUE,
  kind         TEXT    NOT NULL,             -- the event type, or 'body'
  reason       TEXT    NOT NULL,             -- never holds message text
  line_user_id TEXT,                         -- for erasure; NULL if unknown
  body         BLOB    NOT NULL,
  received_at  INTEGER NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 1,
  state        TEXT    NOT NULL DEFAULT 'open' CHECK (state = 'open' OR state = 'reprocessed' OR state = 'discarded'),
  resolved_at  INTEGER
);
CREATE INDEX dead_letters_open ON dead_letters (state, id);
CREATE INDEX dead_letters_user ON dead_letters (line_user_id) WHERE line_user_id IS NOT NULL;
