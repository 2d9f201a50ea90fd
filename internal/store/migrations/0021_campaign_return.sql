-- 差し戻し: an approver sends a draft campaign back to its author with a
-- comment. It stays a draft (the status CHECK is unchanged) but is not
-- waiting for approval until the author requests it again, which clears
-- these columns (the comment stays in the audit trail).
ALTER TABLE campaigns ADD COLUMN returned_by TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN return_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN returned_at INTEGER;

-- Skip reasons that tell the truth (package campaign, plan.go): a customer with an email address or
-- mobile number on a campaign that does not send by that channel is 'email_off' / 'sms_off', not
-- 'no_contact'; 'placeholder' is a customer skipped because a placeholder has no value for them and the
-- campaign's rule says to skip such customers. SQLite cannot alter a CHECK: the table is rebuilt, with
-- its indexes and the erasure trigger as 0010 made them.
CREATE TABLE campaign_recipients_new (
    campaign_id  INTEGER NOT NULL,
    customer_id  INTEGER NOT NULL,
    channel      TEXT NOT NULL CHECK (channel = 'line' OR channel = 'email' OR channel = 'sms' OR channel = 'none'),
    skip_reason  TEXT NOT NULL DEFAULT '' CHECK (skip_reason = '' OR skip_reason = 'no_consent' OR skip_reason = 'blocked'
                     OR skip_reason = 'no_contact' OR skip_reason = 'inactive' OR skip_reason = 'duplicate'
                     OR skip_reason = 'email_off' OR skip_reason = 'sms_off' OR skip_reason = 'placeholder'),
    address      TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status = 'skipped' OR status = 'queued' OR status = 'pending' OR status = 'sending'
                     OR status = 'sent' OR status = 'failed' OR status = 'uncertain'),
    idem_key     TEXT,
    line_request INTEGER,
    provider_id  TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    attempted_at INTEGER,
    sent_at      INTEGER,
    PRIMARY KEY (campaign_id, customer_id)
) WITHOUT ROWID;
INSERT INTO campaign_recipients_new SELECT campaign_id, customer_id, channel, skip_reason, address, status, idem_key,
    line_request, provider_id, error, attempted_at, sent_at FROM campaign_recipients;
DROP TRIGGER campaign_recipients_erase; -- on customers: it names the table being replaced
DROP TABLE campaign_recipients;
ALTER TABLE campaign_recipients_new RENAME TO campaign_recipients;
CREATE UNIQUE INDEX campaign_recipients_idem ON campaign_recipients(idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX campaign_recipients_todo ON campaign_recipients(campaign_id, channel, status)
    WHERE status IN ('pending','sending');
CREATE TRIGGER campaign_recipients_erase AFTER DELETE ON customers BEGIN
    DELETE FROM campaign_recipients WHERE customer_id = OLD.id;
END;
