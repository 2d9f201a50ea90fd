-- Per-segment rich menus (package richmenu). Times are unix ms.

-- A rich menu as staff designed it. LINE menus are immutable: every edit
-- bumps revision, and publishing a revision LINE has not seen creates a new
-- LINE menu (line_menu_id) and retires the old one.
CREATE TABLE richmenu_designs (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL UNIQUE,
    width              INTEGER NOT NULL,
    height             INTEGER NOT NULL,
    chat_bar_text      TEXT NOT NULL,
    selected           INTEGER NOT NULL DEFAULT 0,    -- shown open by default
    areas              TEXT NOT NULL,                 -- JSON: []richmenu.Area
    image              BLOB,
    image_type         TEXT NOT NULL DEFAULT '',      -- image/png or image/jpeg
    revision           INTEGER NOT NULL DEFAULT 1,
    line_menu_id       TEXT NOT NULL DEFAULT '',      -- LINE's richMenuId of published_revision
    published_revision INTEGER NOT NULL DEFAULT 0,
    published_at       INTEGER NOT NULL DEFAULT 0,
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_by         TEXT NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- LINE menus replaced by a newer revision (or a deleted design), deleted on
-- LINE once the sync has moved every user off them.
CREATE TABLE richmenu_retired (
    line_menu_id TEXT PRIMARY KEY,
    retired_at   INTEGER NOT NULL
);

-- Assignment rules, first match wins; match 'segment' uses segment_id.
CREATE TABLE richmenu_rules (
    position   INTEGER PRIMARY KEY,
    match      TEXT NOT NULL CHECK (match IN ('segment','linked','unlinked')),
    segment_id INTEGER REFERENCES segments(id) ON DELETE CASCADE,
    design_id  INTEGER NOT NULL REFERENCES richmenu_designs(id)
);

-- One row: the default menu (users no rule matches) and the sync's flags.
CREATE TABLE richmenu_settings (
    id                   INTEGER PRIMARY KEY CHECK (id = 1),
    default_design_id    INTEGER REFERENCES richmenu_designs(id),
    default_line_menu_id TEXT NOT NULL DEFAULT '',    -- what LINE was last told
    dirty                INTEGER NOT NULL DEFAULT 1     -- something changed since the last sync
);
INSERT INTO richmenu_settings (id) VALUES (1);

-- The per-user menu Tsunagu last set on LINE for each user ('' = none: the
-- default menu shows).
CREATE TABLE richmenu_users (
    line_user_id TEXT PRIMARY KEY REFERENCES line_users(user_id) ON DELETE CASCADE,
    line_menu_id TEXT NOT NULL,
    synced_at    INTEGER NOT NULL
);
CREATE INDEX richmenu_users_menu ON richmenu_users(line_menu_id);

-- A sync's plan, stored before LINE is called: a crash resumes from the
-- rows not yet done.
CREATE TABLE richmenu_sync_plan (
    line_user_id TEXT PRIMARY KEY REFERENCES line_users(user_id) ON DELETE CASCADE,
    line_menu_id TEXT NOT NULL,                       -- '' = unlink
    done         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE richmenu_sync_runs (
    id          INTEGER PRIMARY KEY,
    actor       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('running','done','failed')),
    planned     INTEGER NOT NULL DEFAULT 0,
    applied     INTEGER NOT NULL DEFAULT 0,
    calls       INTEGER NOT NULL DEFAULT 0,           -- bulk API calls made
    error       TEXT NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0
);
