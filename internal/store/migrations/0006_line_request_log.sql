-- The LINE request log: one row per HTTP attempt to the Messaging API, for support and audits
-- (which call, when, LINE's answer and x-line-request-id). It never holds a URL, a request or
-- response body, a token or a user ID: only the endpoint's name. Kept 90 days (pruned at start).
CREATE TABLE line_request_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,                    -- unix ms when the attempt started
    endpoint    TEXT NOT NULL,                       -- endpoint name, e.g. 'multicast' (never the URL)
    status      INTEGER NOT NULL DEFAULT 0,          -- HTTP status; 0 when no answer came
    request_id  TEXT NOT NULL DEFAULT '',            -- x-line-request-id of the answer
    retry_key   TEXT NOT NULL DEFAULT '',            -- X-Line-Retry-Key sent, if any
    duration_ms INTEGER NOT NULL DEFAULT 0,
    failure     TEXT NOT NULL DEFAULT '',            -- 'timeout', 'canceled' or 'connection' when no answer came
    sandbox     INTEGER NOT NULL DEFAULT 0           -- 1: the built-in simulator, not LINE
);
CREATE INDEX line_request_log_at ON line_request_log(at);
