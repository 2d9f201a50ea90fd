-- Tracked links (package clicks). Each LINE recipient of a campaign gets, per link of its messages that
-- is not marked "do not track", a random token; the message carries https://RELAY/c/TENANT/TOKEN instead
-- of the link. The row is written in the transaction that writes the recipient's LINE request (before any
-- send), and the token → URL mapping (with expires_at) is published to the relay before that request is
-- sent (published_at). The relay holds the token, the URL and the expiry, nothing else.
CREATE TABLE tracked_links (
    token        TEXT PRIMARY KEY,                  -- 192 random bits, base64url
    campaign_id  INTEGER NOT NULL,                  -- campaigns(id); campaigns are never deleted
    customer_id  INTEGER NOT NULL,                  -- customers(id); erasure deletes the rows (trigger below)
    url          TEXT NOT NULL,                     -- the link as written in the campaign
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    published_at INTEGER                            -- NULL: not yet on the relay (nothing carrying it was sent)
) WITHOUT ROWID;
-- One token per recipient and link: a retried expansion finds the token it made.
CREATE UNIQUE INDEX tracked_links_once ON tracked_links(campaign_id, customer_id, url);
CREATE INDEX tracked_links_unpublished ON tracked_links(campaign_id) WHERE published_at IS NULL;

-- Clicks the relay queued, attributed through the token. click_id is the relay's random ID of the click,
-- so a click delivered twice is stored once. A click on a token this DB does not know stores nothing.
CREATE TABLE link_clicks (
    click_id    TEXT PRIMARY KEY,
    token       TEXT NOT NULL,
    campaign_id INTEGER NOT NULL,
    customer_id INTEGER NOT NULL,
    url         TEXT NOT NULL,
    clicked_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX link_clicks_by_token ON link_clicks(token);
CREATE INDEX link_clicks_by_customer ON link_clicks(customer_id, clicked_at);
CREATE INDEX link_clicks_by_campaign ON link_clicks(campaign_id, url, customer_id);

CREATE TRIGGER tracked_links_erase AFTER DELETE ON customers BEGIN
    DELETE FROM tracked_links WHERE customer_id = OLD.id;
    DELETE FROM link_clicks WHERE customer_id = OLD.id;
END;
