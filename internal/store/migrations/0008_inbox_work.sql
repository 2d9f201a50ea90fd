-- The inbox as a daily tool: assignment, internal notes, canned replies,
-- labels of postback buttons, full-text search, and auto-replies (package
-- autoreply). Times are unix ms.

-- Who is answering a conversation (NULL: nobody yet). Staff rows are never
-- deleted (deactivated), so the reference always resolves.
ALTER TABLE conversations ADD COLUMN assignee_id INTEGER REFERENCES staff(id);
ALTER TABLE conversations ADD COLUMN assigned_at INTEGER;

-- The conversation list: unread first, then the most recent, keyset-paged.
-- The expression must read exactly as in inbox.List's ORDER BY. unread at
-- the end makes the badge's total (SUM over the unread rows) index-only.
CREATE INDEX conversations_inbox ON conversations((unread > 0), last_message_at, id, unread);
CREATE INDEX conversations_by_assignee ON conversations(assignee_id, (unread > 0), last_message_at, id);

-- Outgoing messages other than plain text (an image reply): the LINE message
-- objects as sent, so a retry resends the same bytes. NULL for text.
ALTER TABLE messages ADD COLUMN payload TEXT;
-- 1: an exchange with the app itself that a hook handled (a link code, a
-- birth date for an identity check): in the thread, but never unread.
ALTER TABLE messages ADD COLUMN internal INTEGER NOT NULL DEFAULT 0;

-- Notes staff leave on a conversation. Never sent to LINE. They are personal
-- data like the messages: erasing the conversation erases them (cascade).
CREATE TABLE conversation_notes (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    author_id       INTEGER REFERENCES staff(id),
    author_name     TEXT NOT NULL,                 -- display name when written
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX conversation_notes_by_conversation ON conversation_notes(conversation_id, id);

-- Texts staff insert in the composer; {氏名} and {担当者} are filled in then.
CREATE TABLE canned_replies (
    id         INTEGER PRIMARY KEY,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    sort       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- What a postback button said, registered by the feature that sent it: a
-- postback event carries only its data, and the thread shows the label.
CREATE TABLE postback_labels (
    data       TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Full-text search over text messages, in and out. The trigram tokenizer
-- finds any substring of 3 characters or more, which suits Japanese (no
-- spaces between words); shorter queries fall back to LIKE. Contentless: the
-- index holds no copy of the text, and with secure-delete a deleted row's
-- tokens leave the index at once, so unsend, erasure and retention (which
-- change or delete messages rows; the triggers follow) leave nothing behind.
CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages WHERE kind = 'text' AND body <> '';

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind = 'text' AND new.body <> ''
BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.kind = 'text' AND old.body <> ''
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.id;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, kind ON messages
WHEN old.body IS NOT new.body OR old.kind IS NOT new.kind
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.id;
    INSERT INTO messages_fts(rowid, body) SELECT new.id, new.body WHERE new.kind = 'text' AND new.body <> '';
END;

-- Keyword auto-replies (package autoreply), set by an administrator.
CREATE TABLE autoreply_rules (
    id         INTEGER PRIMARY KEY,
    keyword    TEXT NOT NULL,
    match_type TEXT NOT NULL CHECK (match_type IN ('exact','contains')),
    reply      TEXT NOT NULL,
    priority   INTEGER NOT NULL DEFAULT 0,         -- higher is tried first
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0,1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Business hours and the away reply: one JSON document (autoreply.Settings).
CREATE TABLE autoreply_settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    config     TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- When the away reply last went to a conversation (at most one per interval).
CREATE TABLE autoreply_away (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    sent_at         INTEGER NOT NULL
);
