-- Inbox: one conversation per LINE user, every message in and out, every webhook event once.

CREATE TABLE line_users (
    user_id        TEXT PRIMARY KEY,              -- LINE user ID (U + 32 hex)
    display_name   TEXT NOT NULL DEFAULT '',
    picture_url    TEXT NOT NULL DEFAULT '',
    follow_state   TEXT NOT NULL DEFAULT 'following' CHECK (follow_state IN ('following','unfollowed','unknown')),
    profile_at     INTEGER,                        -- unix ms of last profile fetch
    created_at     INTEGER NOT NULL
);

CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    line_user_id    TEXT NOT NULL UNIQUE REFERENCES line_users(user_id),
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','pending','closed')),
    unread          INTEGER NOT NULL DEFAULT 0,
    last_message_at INTEGER NOT NULL DEFAULT 0,
    last_kind       TEXT NOT NULL DEFAULT '',     -- kind of the last message (text, sticker, follow, ...)
    last_preview    TEXT NOT NULL DEFAULT '',     -- its body, shortened
    created_at      INTEGER NOT NULL
);
CREATE INDEX conversations_by_last ON conversations(last_message_at DESC);

-- Every webhook event is stored exactly once: LINE may redeliver, the relay may resend.
CREATE TABLE webhook_events (
    webhook_event_id TEXT PRIMARY KEY,
    type             TEXT NOT NULL,
    line_user_id     TEXT,
    occurred_at      INTEGER NOT NULL,            -- event timestamp from LINE (unix ms)
    received_at      INTEGER NOT NULL,
    redelivery       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    direction        TEXT NOT NULL CHECK (direction IN ('in','out')),
    kind             TEXT NOT NULL,               -- text, sticker, image, ...
    body             TEXT NOT NULL DEFAULT '',
    line_message_id  TEXT,                        -- incoming: LINE's message id
    webhook_event_id TEXT UNIQUE REFERENCES webhook_events(webhook_event_id),
    reply_token      TEXT,                        -- incoming: usable once, for a limited time
    reply_token_used INTEGER NOT NULL DEFAULT 0,
    sent_by          TEXT,                        -- outgoing: staff who sent it
    via              TEXT,                        -- outgoing: reply or push
    retry_key        TEXT UNIQUE,                 -- outgoing push: X-Line-Retry-Key, stored before sending
    status           TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received','pending','sent','failed')),
    error            TEXT NOT NULL DEFAULT '',
    line_request_id  TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);
CREATE INDEX messages_pending ON messages(status) WHERE status = 'pending';
