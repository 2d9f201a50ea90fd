-- Consultation booking (docs/booking.md), second slice.

-- The day-before reminder's settings: on/off, when (minutes after midnight,
-- Japan time) and its opening text, a template with the booking's
-- placeholders ({種類} {日時} {支店} {電話}); the booking's details and links
-- follow it.
ALTER TABLE booking_settings ADD COLUMN remind_on INTEGER NOT NULL DEFAULT 1 CHECK (remind_on IN (0, 1));
ALTER TABLE booking_settings ADD COLUMN remind_min INTEGER NOT NULL DEFAULT 600 CHECK (remind_min BETWEEN 0 AND 1439);
ALTER TABLE booking_settings ADD COLUMN remind_text TEXT NOT NULL DEFAULT '明日はご相談のご予約日です。ご来店をお待ちしております。';

-- Holds whose sealed request the desktop could not open (junk posted to
-- the relay's /hold, or a box that is not the booking request it claims to
-- be): the relay queues the hold ID and slot beside the box, outside the
-- seal, and the desktop counts these as released in its next publish (they
-- booked nothing). No customer data.
CREATE TABLE booking_junk_holds (
    hold_id     TEXT PRIMARY KEY,
    slot        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    handled_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX booking_junk_holds_at ON booking_junk_holds(handled_at);
