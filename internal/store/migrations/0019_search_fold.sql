-- Inbox search folds like every other search (package textfold): the
-- message index holds each text's search key, tsunagu_fold(body) (widths,
-- kana, 異体字, case, no spaces), not the text as sent, so ＬＩＮＥ finds
-- "line" and 髙橋 finds 高橋; the search folds the query the same way.
-- The index is rebuilt here, once, from the messages (a migration, not a
-- re-index at start: the key of a stored message changes only when the
-- fold table does, and then a new migration rebuilds it again). Everything
-- else about the index stays as 0008 made it: contentless, secure-delete,
-- kept by triggers.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE messages_fts USING fts5(body, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO messages_fts(messages_fts, rank) VALUES ('secure-delete', 1);
INSERT INTO messages_fts(rowid, body) SELECT id, tsunagu_fold(body) FROM messages WHERE kind = 'text' AND body <> '';

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind = 'text' AND new.body <> ''
BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, tsunagu_fold(new.body));
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
    INSERT INTO messages_fts(rowid, body) SELECT new.id, tsunagu_fold(new.body) WHERE new.kind = 'text' AND new.body <> '';
END;
