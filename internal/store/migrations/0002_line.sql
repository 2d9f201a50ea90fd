-- LINE layer: persisted sends (outbox), profile reachability, and the webhook event kinds beyond text.

-- One send asked for by a feature (a reminder, a campaign, a staff push): the messages exactly as
-- they go on the wire, so a resend after a crash is byte-identical.
CREATE TABLE outbox_sends (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('push','multicast')),
    source      TEXT NOT NULL DEFAULT '',            -- who asked, e.g. 'campaign:12'; never customer data
    messages    BLOB NOT NULL,                       -- JSON array of LINE message objects
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','done','failed','partial')),
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);

-- One API request of a send: a push, or one multicast chunk of at most 500 recipients. Its retry key
-- is stored here before the request is made; a retry reuses it, so LINE delivers it at most once.
CREATE TABLE outbox_requests (
    id                  INTEGER PRIMARY KEY,
    send_id             INTEGER NOT NULL REFERENCES outbox_sends(id),
    seq                 INTEGER NOT NULL,            -- chunk number within the send, from 0
    retry_key           TEXT NOT NULL UNIQUE,        -- X-Line-Retry-Key (UUID)
    recipients          TEXT NOT NULL,               -- user IDs, one per line, in request order
    recipient_count     INTEGER NOT NULL,
    status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','failed')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    first_tried_at      INTEGER,                     -- unix ms of the first attempt: LINE keeps retry keys 24 h
    http_status         INTEGER NOT NULL DEFAULT 0,
    request_id          TEXT NOT NULL DEFAULT '',    -- x-line-request-id of the last answer
    accepted_request_id TEXT NOT NULL DEFAULT '',    -- set when LINE answered 409: the request that delivered
    error               TEXT NOT NULL DEFAULT '',    -- LINE's error message (never message content)
    sent_at             INTEGER,
    UNIQUE (send_id, seq)
);
CREATE INDEX outbox_requests_pending ON outbox_requests(send_id) WHERE status = 'pending';

-- A profile 404 means LINE will not let us reach the user (blocked, not a friend, no consent).
ALTER TABLE line_users ADD COLUMN unreachable_at INTEGER;   -- unix ms of the 404; NULL when reachable

-- Incoming messages: unsend hides a message; content (images, video, audio, files) is downloaded
-- into the encrypted DB; mark-as-read tokens come with message events.
ALTER TABLE messages ADD COLUMN unsent_at INTEGER;
ALTER TABLE messages ADD COLUMN mark_read_token TEXT;
CREATE INDEX messages_by_line_message_id ON messages(line_message_id) WHERE line_message_id IS NOT NULL;

CREATE TABLE message_content (
    message_id   INTEGER PRIMARY KEY REFERENCES messages(id),
    content_type TEXT NOT NULL DEFAULT '',
    data         BLOB NOT NULL,
    fetched_at   INTEGER NOT NULL
);
