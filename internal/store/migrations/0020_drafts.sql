-- Unsaved work (issue 19 item 3): what a staff member typed and has not yet
-- sent or saved, so that a lock, a sign-out or a restart loses nothing.
-- Drafts hold customer-related text, so they live here, in the encrypted
-- DB, never in the WebView's storage. One row per staff member and editor
-- (kind + key). A draft about a conversation or a customer points at it, so
-- erasure and retention remove it with the row (ON DELETE CASCADE).
CREATE TABLE drafts (
    staff_id        INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,                 -- reply, campaign, automation, ... (drafts.Kinds)
    key             TEXT NOT NULL,                 -- the conversation, the campaign ("new" when unsaved), ...
    conversation_id INTEGER REFERENCES conversations(id) ON DELETE CASCADE,
    customer_id     INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    body            TEXT NOT NULL,                 -- the editor's JSON
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (staff_id, kind, key)
);
CREATE INDEX drafts_by_conversation ON drafts(conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX drafts_by_customer ON drafts(customer_id) WHERE customer_id IS NOT NULL;

-- Staff are deactivated, never deleted: a deactivated member's unsent text
-- has no one left to finish it, so it goes in the same transaction.
CREATE TRIGGER drafts_staff_deactivated AFTER UPDATE OF active ON staff
WHEN NEW.active = 0 BEGIN
    DELETE FROM drafts WHERE staff_id = NEW.id;
END;
