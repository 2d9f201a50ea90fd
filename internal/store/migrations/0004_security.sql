-- Security: staff accounts, the hash-chained audit trail and security settings.

CREATE TABLE staff (
    id              INTEGER PRIMARY KEY,
    login           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin','approver','operator','auditor','agency')),
    password_hash   TEXT NOT NULL,                 -- argon2id, PHC string format
    active          INTEGER NOT NULL DEFAULT 1,
    failed_attempts INTEGER NOT NULL DEFAULT 0,    -- consecutive failed sign-ins
    locked_until    INTEGER NOT NULL DEFAULT 0,    -- unix ms; sign-in refused before it
    session_epoch   INTEGER NOT NULL DEFAULT 0,    -- bumped to end every session of this staff member
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deactivated_at  INTEGER
);

-- Append-only: each entry stores the hash of the previous one, so an edit or
-- a deletion breaks the chain (audit.Verify names the first broken entry).
-- The triggers stop accidental changes through SQL; the chain catches the rest.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,                  -- unix ms
    actor      TEXT NOT NULL,                     -- "staff:<login>", "os:<user>", "system"
    action     TEXT NOT NULL,                     -- e.g. auth.signin, staff.create, message.send
    target     TEXT NOT NULL DEFAULT '',          -- what it acted on (an ID, never a name or message text)
    detail     TEXT NOT NULL DEFAULT '',          -- small JSON object, never secrets or customer data
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_by_action ON audit_log(action, at);
CREATE INDEX audit_by_actor ON audit_log(actor, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Security settings (idle lock, CLI sign-in, backups, retention), one row each.
CREATE TABLE security_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
