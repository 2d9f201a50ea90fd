-- Consents become columns of customers. As rows of their own (a WITHOUT
-- ROWID table, ~1.7 per customer) they cost the nightly import of a million
-- customers about a quarter of its time: a second B-tree insert per consent.
-- As columns the import writes them in its one customers upsert.
--
-- Per channel X (line, email, sms, postal):
--   consent_X         NULL: no record (= no consent); 0 refused; 1 granted
--   consent_X_source  who or what recorded it ('import:<file>', 'staff:<login>', 'line')
--   consent_X_at      when, unix ms
-- Readers that send or filter ask "consent_X IS 1" (never "= 1": under a
-- NOT, NULL would drop the customers with no record).
--
-- The view consents keeps the old table's shape, read and written through
-- triggers, for tests and rare readers. Hot paths use the columns.

ALTER TABLE customers ADD COLUMN consent_line INTEGER CHECK (consent_line = 0 OR consent_line = 1);
ALTER TABLE customers ADD COLUMN consent_line_source TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN consent_line_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN consent_email INTEGER CHECK (consent_email = 0 OR consent_email = 1);
ALTER TABLE customers ADD COLUMN consent_email_source TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN consent_email_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN consent_sms INTEGER CHECK (consent_sms = 0 OR consent_sms = 1);
ALTER TABLE customers ADD COLUMN consent_sms_source TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN consent_sms_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customers ADD COLUMN consent_postal INTEGER CHECK (consent_postal = 0 OR consent_postal = 1);
ALTER TABLE customers ADD COLUMN consent_postal_source TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN consent_postal_at INTEGER NOT NULL DEFAULT 0;

-- One pass over the old rows, each customer rewritten once: at most one
-- row per (customer, channel), so max() FILTER picks that row's value.
UPDATE customers SET
    consent_line          = k.line,
    consent_line_source   = coalesce(k.line_source, ''),
    consent_line_at       = coalesce(k.line_at, 0),
    consent_email         = k.email,
    consent_email_source  = coalesce(k.email_source, ''),
    consent_email_at      = coalesce(k.email_at, 0),
    consent_sms           = k.sms,
    consent_sms_source    = coalesce(k.sms_source, ''),
    consent_sms_at        = coalesce(k.sms_at, 0),
    consent_postal        = k.postal,
    consent_postal_source = coalesce(k.postal_source, ''),
    consent_postal_at     = coalesce(k.postal_at, 0)
FROM (
    SELECT customer_id,
           max(granted)     FILTER (WHERE channel = 'line')   AS line,
           max(source)      FILTER (WHERE channel = 'line')   AS line_source,
           max(recorded_at) FILTER (WHERE channel = 'line')   AS line_at,
           max(granted)     FILTER (WHERE channel = 'email')  AS email,
           max(source)      FILTER (WHERE channel = 'email')  AS email_source,
           max(recorded_at) FILTER (WHERE channel = 'email')  AS email_at,
           max(granted)     FILTER (WHERE channel = 'sms')    AS sms,
           max(source)      FILTER (WHERE channel = 'sms')    AS sms_source,
           max(recorded_at) FILTER (WHERE channel = 'sms')    AS sms_at,
           max(granted)     FILTER (WHERE channel = 'postal') AS postal,
           max(source)      FILTER (WHERE channel = 'postal') AS postal_source,
           max(recorded_at) FILTER (WHERE channel = 'postal') AS postal_at
    FROM consents GROUP BY customer_id
) AS k
WHERE customers.id = k.customer_id;

DROP TABLE consents;

-- The old table's rows: one per customer and channel with a record.
CREATE VIEW consents (customer_id, channel, granted, source, recorded_at) AS
    SELECT id, 'line', consent_line, consent_line_source, consent_line_at FROM customers WHERE consent_line IS NOT NULL
    UNION ALL
    SELECT id, 'email', consent_email, consent_email_source, consent_email_at FROM customers WHERE consent_email IS NOT NULL
    UNION ALL
    SELECT id, 'sms', consent_sms, consent_sms_source, consent_sms_at FROM customers WHERE consent_sms IS NOT NULL
    UNION ALL
    SELECT id, 'postal', consent_postal, consent_postal_source, consent_postal_at FROM customers WHERE consent_postal IS NOT NULL;

-- An insert records (or replaces) the channel's consent. It refuses what
-- the table's CHECKs and foreign key refused; the messages say so in the
-- same words, so callers matching on them keep working.
CREATE TRIGGER consents_insert INSTEAD OF INSERT ON consents
BEGIN
    SELECT RAISE(ABORT, 'CHECK constraint failed: consents.channel')
    WHERE NEW.channel IS NULL OR NOT (NEW.channel = 'line' OR NEW.channel = 'email' OR NEW.channel = 'sms' OR NEW.channel = 'postal');
    SELECT RAISE(ABORT, 'CHECK constraint failed: consents.granted')
    WHERE NEW.granted IS NULL OR NOT (NEW.granted = 0 OR NEW.granted = 1);
    SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: consents.customer_id')
    WHERE NOT EXISTS (SELECT 1 FROM customers WHERE id = NEW.customer_id);
    UPDATE customers SET consent_line = NEW.granted, consent_line_source = NEW.source, consent_line_at = NEW.recorded_at
    WHERE id = NEW.customer_id AND NEW.channel = 'line';
    UPDATE customers SET consent_email = NEW.granted, consent_email_source = NEW.source, consent_email_at = NEW.recorded_at
    WHERE id = NEW.customer_id AND NEW.channel = 'email';
    UPDATE customers SET consent_sms = NEW.granted, consent_sms_source = NEW.source, consent_sms_at = NEW.recorded_at
    WHERE id = NEW.customer_id AND NEW.channel = 'sms';
    UPDATE customers SET consent_postal = NEW.granted, consent_postal_source = NEW.source, consent_postal_at = NEW.recorded_at
    WHERE id = NEW.customer_id AND NEW.channel = 'postal';
END;

-- A delete removes the channel's record: no record, no consent.
CREATE TRIGGER consents_delete INSTEAD OF DELETE ON consents
BEGIN
    UPDATE customers SET consent_line = NULL, consent_line_source = '', consent_line_at = 0
    WHERE id = OLD.customer_id AND OLD.channel = 'line';
    UPDATE customers SET consent_email = NULL, consent_email_source = '', consent_email_at = 0
    WHERE id = OLD.customer_id AND OLD.channel = 'email';
    UPDATE customers SET consent_sms = NULL, consent_sms_source = '', consent_sms_at = 0
    WHERE id = OLD.customer_id AND OLD.channel = 'sms';
    UPDATE customers SET consent_postal = NULL, consent_postal_source = '', consent_postal_at = 0
    WHERE id = OLD.customer_id AND OLD.channel = 'postal';
END;
