-- Nothing on the webhook path waits for LINE's API (issue 17). The webhook's
-- transaction records what must be fetched from LINE as jobs; a background
-- fetcher works them. Outgoing messages carry what their background sender
-- needs to deliver them later, in order, exactly once. Times are unix ms.

-- One thing to fetch from LINE: a user's profile (target = LINE user ID) or
-- a message's content (target = LINE's message ID). Lanes keep large files
-- from holding up small ones: 'profile', 'small' (images, audio, small
-- files), 'large' (video, large files). A job is deleted when it succeeds;
-- one LINE gives up on for a good reason stays as 'gone' with the reason,
-- which the thread shows ('expired': LINE no longer has it; 'refused': LINE
-- answered a permanent 4xx; 'too_large': over line.MaxContentSize).
CREATE TABLE fetch_jobs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind = 'profile' OR kind = 'content'),
    lane          TEXT NOT NULL CHECK (lane = 'profile' OR lane = 'small' OR lane = 'large'),
    target        TEXT NOT NULL,
    line_user_id  TEXT REFERENCES line_users(user_id) ON DELETE CASCADE,   -- profile jobs
    message_id    INTEGER REFERENCES messages(id) ON DELETE CASCADE,       -- content jobs
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status = 'pending' OR status = 'gone'),
    reason        TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,              -- earliest next attempt
    last_error    TEXT NOT NULL DEFAULT '',      -- HTTP status or error class; never a URL or user ID
    created_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    UNIQUE (kind, target)
);
CREATE INDEX fetch_jobs_due ON fetch_jobs(lane, next_at, id) WHERE status = 'pending';
CREATE INDEX fetch_jobs_by_message ON fetch_jobs(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX fetch_jobs_by_user ON fetch_jobs(line_user_id) WHERE line_user_id IS NOT NULL;

-- Outgoing messages still 'pending' are the send queue, delivered by the
-- inbox's background sender in order per conversation.
--   send_token        the reply token claimed for it (a hook reply); used
--                     while fresh (before send_token_until), else a push
--   tried_at          a reply attempt began: after a crash its outcome is
--                     open, so it is never resent (staff decide)
--   uncertain_since   the first push attempt whose outcome is unknown; LINE
--                     keeps the retry key 24 h, so it is resent only within
--                     that window. Attempts that never reached LINE (refused
--                     connection, 429) do not set it.
--   next_send_at      earliest next attempt after a temporary failure
--   send_attempts     attempts so far
ALTER TABLE messages ADD COLUMN send_token TEXT;
ALTER TABLE messages ADD COLUMN send_token_until INTEGER;
ALTER TABLE messages ADD COLUMN tried_at INTEGER;
ALTER TABLE messages ADD COLUMN uncertain_since INTEGER;
ALTER TABLE messages ADD COLUMN next_send_at INTEGER;
ALTER TABLE messages ADD COLUMN send_attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_send_queue ON messages(conversation_id, id) WHERE status = 'pending' AND direction = 'out';
