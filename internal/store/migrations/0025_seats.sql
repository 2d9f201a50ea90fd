-- Branch seats (package seat/primary): other PCs of the branch that work on this database over the LAN.
-- A seat code is single use and valid for 10 minutes; only its SHA-256 is stored. A seat is pinned by the
-- SHA-256 of its public key (SubjectPublicKeyInfo); a revoked seat keeps its row (the audit trail names it)
-- and is refused from then on.
CREATE TABLE seat_codes (
    id         INTEGER PRIMARY KEY,
    code_hash  BLOB NOT NULL UNIQUE,
    seat_name  TEXT NOT NULL CHECK (length(trim(seat_name)) > 0),
    created_by TEXT NOT NULL,                 -- the audit actor who issued it
    created_at INTEGER NOT NULL,              -- unix ms
    expires_at INTEGER NOT NULL,
    used_at    INTEGER                        -- NULL: not used yet
);

CREATE TABLE seats (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL CHECK (length(trim(name)) > 0),
    key_fingerprint TEXT NOT NULL UNIQUE CHECK (length(key_fingerprint) = 64), -- hex SHA-256 of the SPKI
    public_key      BLOB NOT NULL,            -- the SPKI (DER)
    code_id         INTEGER NOT NULL REFERENCES seat_codes(id),
    created_at      INTEGER NOT NULL,
    last_contact_at INTEGER,
    revoked_at      INTEGER,
    revoked_by      TEXT
);
-- A name is one seat at a time; a revoked seat's name can be given again.
CREATE UNIQUE INDEX seats_active_name ON seats(name) WHERE revoked_at IS NULL;
