-- Consultation booking (package booking, docs/booking.md, issue 21). Times
-- are unix ms; a day is 'YYYY-MM-DD' in Japan time; minutes of the day count
-- from 00:00 JST. The public holidays are computed (booking/holidays.go),
-- never stored.

-- A kind of consultation (資産運用相談 ...): how long one takes, how many
-- customers one slot takes, how early it may be booked and how late it may
-- be booked or cancelled.
CREATE TABLE booking_types (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT NOT NULL UNIQUE,
    duration_min          INTEGER NOT NULL CHECK (duration_min BETWEEN 10 AND 240),
    capacity              INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 20),
    lead_min              INTEGER NOT NULL DEFAULT 0,    -- booking closes this long before the start
    horizon_days          INTEGER NOT NULL DEFAULT 30,   -- slots offered this many days ahead
    cancel_cutoff_min     INTEGER NOT NULL DEFAULT 0,    -- cancel/change from LINE until this long before
    active                INTEGER NOT NULL DEFAULT 1,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);

-- The staff members who can take a type.
CREATE TABLE booking_type_staff (
    type_id  INTEGER NOT NULL REFERENCES booking_types(id) ON DELETE CASCADE,
    staff_id INTEGER NOT NULL REFERENCES staff(id),
    PRIMARY KEY (type_id, staff_id)
) WITHOUT ROWID;

-- The branch's consultation hours: one or more spans per weekday
-- (0 = Sunday), e.g. 9:00–11:30 and 12:30–15:00.
CREATE TABLE booking_hours (
    weekday   INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    open_min  INTEGER NOT NULL CHECK (open_min BETWEEN 0 AND 1440),
    close_min INTEGER NOT NULL CHECK (close_min BETWEEN 0 AND 1440),
    CHECK (open_min < close_min),
    PRIMARY KEY (weekday, open_min)
) WITHOUT ROWID;

-- Days the branch takes no consultations besides public and bank holidays.
CREATE TABLE booking_closed_days (
    day    TEXT PRIMARY KEY,
    reason TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- One booking. A reschedule ends the old row ('rescheduled', moved_to) and
-- makes a new confirmed one. submit_id: the phone's random ID, so a double
-- submit or a redelivery is stored once ('' for staff bookings). note is
-- the customer's free text: customer data, only in this encrypted DB.
CREATE TABLE bookings (
    id           INTEGER PRIMARY KEY,
    type_id      INTEGER NOT NULL REFERENCES booking_types(id),
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    staff_id     INTEGER NOT NULL REFERENCES staff(id),
    line_user_id TEXT,
    customer_id  INTEGER REFERENCES customers(id),
    status       TEXT NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled', 'rescheduled', 'no_show')),
    note         TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL CHECK (source IN ('line', 'staff')),
    submit_id    TEXT,
    moved_to     INTEGER REFERENCES bookings(id),
    manage_token TEXT UNIQUE,                          -- 192 random bits: the LINE links' cancel/change key
    confirm_send INTEGER,                              -- the outbox send of the LINE confirmation
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    CHECK (line_user_id IS NOT NULL OR customer_id IS NOT NULL)
);
CREATE UNIQUE INDEX bookings_submit ON bookings(submit_id) WHERE submit_id IS NOT NULL;
CREATE INDEX bookings_by_start ON bookings(starts_at) WHERE status = 'confirmed';
CREATE INDEX bookings_by_user ON bookings(line_user_id);
CREATE INDEX bookings_by_customer ON bookings(customer_id);

-- Erasing a LINE user or a customer (package erasure) removes their bookings.
CREATE TRIGGER bookings_line_user_erase AFTER DELETE ON line_users BEGIN
    UPDATE bookings SET moved_to = NULL WHERE moved_to IN (SELECT id FROM bookings WHERE line_user_id = OLD.user_id);
    DELETE FROM bookings WHERE line_user_id = OLD.user_id;
END;
CREATE TRIGGER bookings_customer_erase BEFORE DELETE ON customers BEGIN
    UPDATE bookings SET moved_to = NULL WHERE moved_to IN (SELECT id FROM bookings WHERE customer_id = OLD.id);
    DELETE FROM bookings WHERE customer_id = OLD.id;
END;

-- The branch as bookings name it (one row): in the LINE confirmation, the
-- reminder and the calendar event, and the phone number a customer past
-- the cancel cut-off is asked to call. Not customer data.
CREATE TABLE booking_settings (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    branch TEXT NOT NULL DEFAULT '',
    phone  TEXT NOT NULL DEFAULT ''
);
INSERT INTO booking_settings (id) VALUES (1);

-- Every request from the booking page, once per submit_id (a double submit
-- or a redelivery is handled once): book (with the relay's hold_id),
-- cancel, reschedule. result is what the desktop did; the hold IDs of
-- handled requests are published back to the relay as counted (docs/booking.md).
-- No customer data: the booking row has that.
CREATE TABLE booking_requests (
    submit_id   TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('book', 'cancel', 'reschedule')),
    hold_id     TEXT UNIQUE,
    slot_start  INTEGER,
    result      TEXT NOT NULL CHECK (result IN ('booked', 'cancelled', 'moved', 'full', 'cutoff', 'forged', 'expired', 'replayed', 'not_found')),
    booking_id  INTEGER,
    received_at INTEGER NOT NULL,
    handled_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX booking_requests_holds ON booking_requests(handled_at) WHERE hold_id IS NOT NULL;

-- The reminder the day before (booking.Service.RunDue, run by the
-- automation scheduler): one row per booking, inserted in the transaction
-- that stores the outbox send and its retry key, so a reminder goes once
-- even across a restart.
CREATE TABLE booking_reminders (
    booking_id INTEGER PRIMARY KEY REFERENCES bookings(id) ON DELETE CASCADE,
    send_id    INTEGER,
    at         INTEGER NOT NULL
);
