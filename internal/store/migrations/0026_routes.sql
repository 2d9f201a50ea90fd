-- Inflow routes (package routes, docs/routes.md). A route is a QR code/URL put on a poster, flyer or
-- a staff member's card: https://RELAY/r/TENANT/TOKEN. The relay holds only the token → target URL
-- (LINE's add-friend URL or a page) and queues each visit sealed to this desktop (token, time, a random
-- visit ID; nothing about the person). A follow is attributed to the route whose unclaimed visits came
-- shortly before it, only when they all belong to one route.
CREATE TABLE routes (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    target       TEXT NOT NULL CHECK (target IN ('friend', 'page')),
    page_url     TEXT NOT NULL DEFAULT '',            -- target 'page' only
    tag_id       INTEGER REFERENCES tags(id) ON DELETE SET NULL,
    welcome      TEXT NOT NULL DEFAULT '',            -- '' = no welcome message
    token        TEXT NOT NULL UNIQUE,                -- 192 random bits, base64url (the QR's path)
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    archived_at  INTEGER,
    published_at INTEGER,                             -- NULL: the relay does not know the current target yet
    published_url TEXT NOT NULL DEFAULT ''            -- the target the relay was given
);
CREATE UNIQUE INDEX routes_name ON routes(name) WHERE archived_at IS NULL;

-- Visits the relay queued (or the sandbox host recorded). visit_id is the relay's random ID, so a
-- redelivered visit is stored once. claimed_by: the follower it was attributed to.
CREATE TABLE route_visits (
    visit_id   TEXT PRIMARY KEY,
    route_id   INTEGER NOT NULL REFERENCES routes(id),
    visited_at INTEGER NOT NULL,
    claimed_by TEXT
) WITHOUT ROWID;
CREATE INDEX route_visits_open ON route_visits(visited_at) WHERE claimed_by IS NULL;

-- One row per LINE friend whose first follow Tsunagu saw after routes existed: the route, or NULL with
-- why not (none, ambiguous, refollow). Never rewritten: a friend is attributed once.
CREATE TABLE route_friends (
    line_user_id TEXT PRIMARY KEY,
    route_id     INTEGER REFERENCES routes(id),
    reason       TEXT NOT NULL CHECK (reason IN ('visit', 'none', 'ambiguous', 'refollow')),
    followed_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX route_friends_by_route ON route_friends(route_id, followed_at);

-- A route's tag is the customer's once the friend is linked to a customer (usually after the follow).
CREATE TRIGGER route_tag_on_link AFTER INSERT ON customer_line_links BEGIN
    INSERT OR IGNORE INTO customer_tags (customer_id, tag_id)
    SELECT NEW.customer_id, r.tag_id FROM route_friends f JOIN routes r ON r.id = f.route_id
    WHERE f.line_user_id = NEW.line_user_id AND r.tag_id IS NOT NULL;
END;

-- Erasing a LINE user (package erasure deletes line_users) leaves no trace of them here: the friend
-- stays counted for its route under a random placeholder, and the visit it claimed stays claimed.
CREATE TRIGGER route_line_user_erase AFTER DELETE ON line_users BEGIN
    UPDATE route_friends SET line_user_id = 'erased:' || lower(hex(randomblob(12))) WHERE line_user_id = OLD.user_id;
    UPDATE route_visits SET claimed_by = 'erased' WHERE claimed_by = OLD.user_id;
END;
