-- Customers: the institution's own records, filled from core-banking CSV
-- exports (package importer) and read by every feature that contacts people.
-- Queries live in package customer. Times are unix ms; dates are 'YYYY-MM-DD'.

CREATE TABLE customers (
    id              INTEGER PRIMARY KEY,
    customer_no     TEXT NOT NULL UNIQUE,          -- the business key from the core-banking system
    name            TEXT NOT NULL,
    name_kana       TEXT NOT NULL DEFAULT '',      -- full-width katakana
    birth_date      TEXT NOT NULL DEFAULT '',      -- YYYY-MM-DD or ''
    gender          TEXT NOT NULL DEFAULT '' CHECK (gender IN ('','male','female','other')),
    postal_code     TEXT NOT NULL DEFAULT '',      -- 123-4567 or ''
    address         TEXT NOT NULL DEFAULT '',
    branch          TEXT NOT NULL DEFAULT '',
    staff_in_charge TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','inactive')),
    row_hash        INTEGER NOT NULL DEFAULT 0,    -- of the last imported values: unchanged rows are not rewritten
    created_import  INTEGER,                       -- imports.id that created the row (NULL: entered by hand)
    updated_import  INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- No index on name, kana, branch or contact values: search is a substring
-- match (LIKE '%...%'), which no B-tree index serves, and a branch's tens of
-- thousands of customers scan in milliseconds. Every index would cost each
-- of the million rows of a nightly import another B-tree insert.

-- Every way to reach a customer except LINE (see customer_line_links).
-- Phones are stored as digits only; emails lowercased.
CREATE TABLE contact_points (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('phone','mobile','email')),
    value       TEXT NOT NULL,
    source      TEXT NOT NULL,                     -- 'import' (replaced by the next import) or 'manual'
    created_at  INTEGER NOT NULL,
    UNIQUE (customer_id, kind, value)
);

-- The latest consent per customer and channel; marketing sends require
-- granted = 1 for their channel (customer.Consented).
CREATE TABLE consents (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL CHECK (channel IN ('line','email','sms','postal')),
    granted     INTEGER NOT NULL CHECK (granted IN (0,1)),
    source      TEXT NOT NULL,                     -- e.g. 'import:<file>', 'staff:<login>', 'line'
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (customer_id, channel)
) WITHOUT ROWID;

CREATE TABLE products (
    id           INTEGER PRIMARY KEY,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    type         TEXT NOT NULL,                    -- e.g. 普通預金, 定期預金, 住宅ローン
    product_code TEXT NOT NULL DEFAULT '',
    opened_on    TEXT NOT NULL DEFAULT '',
    matures_on   TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','closed')),
    amount_band  TEXT NOT NULL DEFAULT '',         -- a band (e.g. '100-300万'), never an exact balance
    source       TEXT NOT NULL DEFAULT 'manual',
    created_at   INTEGER NOT NULL
);
CREATE INDEX products_by_customer ON products(customer_id);
CREATE INDEX products_by_maturity ON products(matures_on) WHERE matures_on <> '';

-- Custom attributes are defined by an administrator and typed.
CREATE TABLE attribute_defs (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('text','number','date','boolean','choice')),
    choices    TEXT NOT NULL DEFAULT '[]',         -- JSON array of strings, for type 'choice'
    created_at INTEGER NOT NULL
);

CREATE TABLE customer_attributes (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    attr_id     INTEGER NOT NULL REFERENCES attribute_defs(id) ON DELETE CASCADE,
    value       TEXT NOT NULL,                     -- canonical text form of the typed value
    PRIMARY KEY (customer_id, attr_id)
) WITHOUT ROWID;

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE customer_tags (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    tag_id      INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (customer_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX customer_tags_by_tag ON customer_tags(tag_id);

-- One LINE user per customer and one customer per LINE user. The follow
-- state is the inbox's (line_users.follow_state), read through the join.
CREATE TABLE customer_line_links (
    customer_id  INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    line_user_id TEXT NOT NULL UNIQUE REFERENCES line_users(user_id),
    linked_at    INTEGER NOT NULL,
    method       TEXT NOT NULL CHECK (method IN ('manual','code','import')),
    linked_by    TEXT NOT NULL DEFAULT ''
);

-- Saved column mappings, one per source system.
CREATE TABLE import_profiles (
    name       TEXT PRIMARY KEY,
    settings   TEXT NOT NULL,                      -- JSON: encoding, delimiter, header -> field
    updated_at INTEGER NOT NULL
);

-- One row per committed import (a dry run or a cancelled import leaves none).
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0,
    staff       TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL DEFAULT '',
    encoding    TEXT NOT NULL,
    profile     TEXT NOT NULL DEFAULT '',
    missing     TEXT NOT NULL CHECK (missing IN ('keep','inactivate')),
    rows_total  INTEGER NOT NULL DEFAULT 0,
    rows_new    INTEGER NOT NULL DEFAULT 0,
    rows_updated   INTEGER NOT NULL DEFAULT 0,
    rows_unchanged INTEGER NOT NULL DEFAULT 0,
    rows_rejected  INTEGER NOT NULL DEFAULT 0,
    inactivated    INTEGER NOT NULL DEFAULT 0
);
