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
