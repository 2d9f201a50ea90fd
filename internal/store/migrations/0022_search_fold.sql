-- Inbox search folds like every other search (package textfold): the
-- message index holds each text's search key, tsunagu_fold(body) (widths,
-- kana, 異体字, case, no spaces), not the text as sent, so ＬＩＮＥ finds
-- "line" and 髙橋 finds 高橋; the search folds the query the same way.
-- The index is rebuilt here, once, from the messages (a migration, not a
-- re-index at start: the key of a stored message changes only when the
-- fold table does, and then a new migration rebuilds it again). Everything
-- else about the index stays as 0008 and 0019 made it: contentless,
-- secure-delete, kept by triggers, campaign copies left out (0019).
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts(rowid, body) SELECT id, tsunagu_fold(body) FROM messages WHERE kind = 'text' AND body <> '' AND campaign_request IS NULL;

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind = 'text' AND new.body <> '' AND new.campaign_request IS NULL
BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, tsunagu_fold(new.body));
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.kind = 'text' AND old.body <> '' AND old.campaign_request IS NULL
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.id;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, kind ON messages
WHEN (old.body IS NOT new.body OR old.kind IS NOT new.kind) AND old.campaign_request IS NULL
BEGIN
    DELETE FROM messages_fts WHERE rowid = old.id;
    INSERT INTO messages_fts(rowid, body) SELECT new.id, tsunagu_fold(new.body) WHERE new.kind = 'text' AND new.body <> '';
END;

-- The inbox search finds a conversation by who it is with: the LINE display
-- name and the linked customer's name and kana, as one search key per LINE
-- user (folded, joined by line breaks). Kept by triggers wherever one of the
-- three changes, so a search is a plain LIKE over short keys, not a fold of
-- every conversation's names per query. No copy of the names outlives them:
-- the row goes with the LINE user, and an erased customer's link goes with
-- the customer (whose delete cascades to the link, firing its trigger).
CREATE TABLE line_user_search (
    user_id TEXT PRIMARY KEY,                     -- line_users(user_id)
    key     TEXT NOT NULL
) WITHOUT ROWID;

CREATE VIEW line_user_search_keys AS
SELECT u.user_id,
       tsunagu_fold(u.display_name) || char(10) || coalesce((
           SELECT tsunagu_fold(c.name) || char(10) || tsunagu_fold(c.name_kana)
           FROM customer_line_links l JOIN customers c ON c.id = l.customer_id
           WHERE l.line_user_id = u.user_id), '') AS key
FROM line_users u;

INSERT INTO line_user_search (user_id, key) SELECT user_id, key FROM line_user_search_keys;

CREATE TRIGGER line_user_search_user_insert AFTER INSERT ON line_users
BEGIN
    INSERT OR REPLACE INTO line_user_search (user_id, key) SELECT user_id, key FROM line_user_search_keys WHERE user_id = new.user_id;
END;
CREATE TRIGGER line_user_search_user_name AFTER UPDATE OF display_name ON line_users
WHEN old.display_name IS NOT new.display_name
BEGIN
    INSERT OR REPLACE INTO line_user_search (user_id, key) SELECT user_id, key FROM line_user_search_keys WHERE user_id = new.user_id;
END;
CREATE TRIGGER line_user_search_user_delete AFTER DELETE ON line_users
BEGIN
    DELETE FROM line_user_search WHERE user_id = old.user_id;
END;
CREATE TRIGGER line_user_search_link_insert AFTER INSERT ON customer_line_links
BEGIN
    INSERT OR REPLACE INTO line_user_search (user_id, key) SELECT user_id, key FROM line_user_search_keys WHERE user_id = new.line_user_id;
END;
CREATE TRIGGER line_user_search_link_update AFTER UPDATE ON customer_line_links
BEGIN
    INSERT OR REPLACE INTO line_user_search (user_id, key) SELECT user_id, key FROM line_user_search_keys WHERE user_id IN (old.line_user_id, new.line_user_id);
END;
CREATE TRIGGER line_user_search_link_delete AFTER DELETE ON customer_line_links
BEGIN
    INSERT OR REPLACE INTO line_user_search (user_id, key) SELECT user_id, key FROM line_user_search_keys WHERE user_id = old.line_user_id;
END;
CREATE TRIGGER line_user_search_customer_name AFTER UPDATE OF name, name_kana ON customers
WHEN old.name IS NOT new.name OR old.name_kana IS NOT new.name_kana
BEGIN
    INSERT OR REPLACE INTO line_user_search (user_id, key)
    SELECT user_id, key FROM line_user_search_keys
    WHERE user_id = (SELECT line_user_id FROM customer_line_links WHERE customer_id = new.id);
END;
