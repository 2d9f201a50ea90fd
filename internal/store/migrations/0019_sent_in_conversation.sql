-- Everything the account sends to a LINE user is in that user's conversation:
-- besides staff replies, the campaigns, survey questions, reminders, welcome
-- steps and automatic replies. Rows written by inbox.RecordSent (in the
-- transaction that enqueues the send) and by the inbox's hook replies.
--
-- source: the feature that sent it and its ID, as its audit target reads
-- ('campaign:12', 'survey:3', 'automation:5'), or the feature alone
-- ('autoreply', 'linking', 'survey'); NULL for a staff reply. The thread
-- shows its kind and name from it.
ALTER TABLE messages ADD COLUMN source TEXT;
-- The request that carries a recorded send (outbox_requests.id or
-- campaign_line_requests.id; not foreign keys, those rows are pruned on
-- their own schedule): the message's delivery status is that request's,
-- read when the thread is shown, so a campaign to 10,000 costs no write per
-- recipient when its outcome arrives. Such rows are stored 'sent' so the
-- inbox's own send queue (which sends every pending outgoing row) never
-- takes them.
ALTER TABLE messages ADD COLUMN outbox_request INTEGER;
ALTER TABLE messages ADD COLUMN campaign_request INTEGER;

-- A campaign's copy in each recipient's thread is not in the search index:
-- searching the inbox for a word of a campaign would otherwise list every
-- recipient's conversation, and indexing 100,000 copies would cost the
-- campaign's send about a second (the target is 1.2x LINE's rate-limit
-- floor). The same text once per campaign is in campaign_line_groups.
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind = 'text' AND new.body <> '' AND new.campaign_request IS NULL
BEGIN
    INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
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
    INSERT INTO messages_fts(rowid, body) SELECT new.id, new.body WHERE new.kind = 'text' AND new.body <> '';
END;

-- 1 once a campaign's LINE request has its copies in the recipients'
-- threads (package campaign, threads.go: written after the send, in
-- batches; the scheduler finishes what a crash left). Requests sent before
-- this migration are written too, in the background, so the threads show
-- the campaigns already sent.
ALTER TABLE campaign_line_requests ADD COLUMN in_threads INTEGER NOT NULL DEFAULT 0;
CREATE INDEX campaign_line_requests_unthreaded ON campaign_line_requests(campaign_id, id) WHERE in_threads = 0;
