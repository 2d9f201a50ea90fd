-- Tracked links rebuilt (package clicks), for two reasons.
--
-- Speed: 0024 keyed both tables by random strings (the token, the relay's
-- click ID) in WITHOUT ROWID trees and gave link_clicks three more indexes,
-- so every stored click dirtied pages all over four random B-trees; storing
-- 100,000 queued clicks took 24-29 s, nearly all in committing and
-- encrypting those pages. Now each table has an integer key in the order
-- rows are written (a campaign's links are neighbours; clicks are appended),
-- the token is in one index that only minting writes, and a click row is
-- (link, click ID, time) with one index, (link_id, click_id): it keeps a
-- redelivered click out (a click ID always comes with its token, so its
-- link), finds a link's first click, and joins clicks to their links. Who
-- clicked and which campaign is the link's, not copied into every click.
--
-- Sources beyond campaigns: a link belongs to a campaign or an automation (a
-- reminder's day or a welcome step: send_key); 'reply' (a staff reply in
-- the inbox, source_id its message) is admitted for the composer's choice,
-- so that adding it needs no second rebuild. Its recipient is a customer
-- or, where the person is only a LINE friend (a welcome step, a reply to
-- someone not yet linked), a LINE user; erasing either deletes their links
-- and, through the foreign key, their clicks.
DROP TRIGGER tracked_links_erase;

CREATE TABLE tracked_links_v2 (
    id           INTEGER PRIMARY KEY,              -- minting order
    token        TEXT NOT NULL,                    -- 192 random bits, base64url
    source       TEXT NOT NULL CHECK (source IN ('campaign', 'automation', 'reply')),
    source_id    INTEGER NOT NULL,                 -- campaigns(id), automations(id) or messages(id); never reused
    send_key     TEXT NOT NULL DEFAULT '',         -- which send of the source: a reminder's day, 'step-2'; '' for one-off sends
    customer_id  INTEGER,                          -- customers(id)
    line_user_id TEXT,                             -- line_users(user_id), when the recipient is only a LINE friend
    url          TEXT NOT NULL,                    -- the link as written
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    published_at INTEGER,                          -- NULL: not yet on the relay (nothing carrying it was sent)
    CHECK (customer_id IS NOT NULL OR line_user_id IS NOT NULL)
);
INSERT INTO tracked_links_v2 (token, source, source_id, customer_id, url, created_at, expires_at, published_at)
SELECT token, 'campaign', campaign_id, customer_id, url, created_at, expires_at, published_at
FROM tracked_links ORDER BY campaign_id, customer_id, url;

CREATE TABLE link_clicks_v2 (
    id         INTEGER PRIMARY KEY,                -- arrival order
    link_id    INTEGER NOT NULL REFERENCES tracked_links_v2(id) ON DELETE CASCADE,
    click_id   BLOB NOT NULL,                      -- the relay's random ID of the click (16 bytes)
    clicked_at INTEGER NOT NULL
);
INSERT INTO link_clicks_v2 (link_id, click_id, clicked_at)
SELECT t.id, unhex(k.click_id), k.clicked_at
FROM link_clicks k JOIN tracked_links_v2 t ON t.token = k.token ORDER BY k.clicked_at;

DROP TABLE link_clicks;
DROP TABLE tracked_links;
ALTER TABLE tracked_links_v2 RENAME TO tracked_links;
ALTER TABLE link_clicks_v2 RENAME TO link_clicks;

CREATE UNIQUE INDEX tracked_links_token ON tracked_links(token);
-- One token per recipient, send and link: a retried expansion finds the token it made.
CREATE UNIQUE INDEX tracked_links_once ON tracked_links(source, source_id, send_key, ifnull(customer_id, 0), ifnull(line_user_id, ''), url);
CREATE INDEX tracked_links_by_customer ON tracked_links(customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX tracked_links_by_line_user ON tracked_links(line_user_id) WHERE line_user_id IS NOT NULL;
CREATE INDEX tracked_links_unpublished ON tracked_links(source, source_id) WHERE published_at IS NULL;
CREATE UNIQUE INDEX link_clicks_once ON link_clicks(link_id, click_id);

CREATE TRIGGER tracked_links_erase_customer AFTER DELETE ON customers BEGIN
    DELETE FROM tracked_links WHERE customer_id = OLD.id;
END;
CREATE TRIGGER tracked_links_erase_line_user AFTER DELETE ON line_users BEGIN
    DELETE FROM tracked_links WHERE line_user_id = OLD.user_id;
END;
