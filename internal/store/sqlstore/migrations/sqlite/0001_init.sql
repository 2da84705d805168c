-- Times are microseconds since the Unix epoch (UTC), 0 for unknown.
-- JSON documents are TEXT.
CREATE TABLE profiles (
    id            TEXT PRIMARY KEY,
    primary_email TEXT NOT NULL DEFAULT '',
    row_created   INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    data          TEXT NOT NULL
);
CREATE TABLE profile_emails (
    email      TEXT PRIMARY KEY,
    profile_id TEXT NOT NULL
);
CREATE INDEX profile_emails_profile ON profile_emails (profile_id);
CREATE TABLE links (
    ref_key     TEXT PRIMARY KEY,
    platform    TEXT NOT NULL,
    account     TEXT NOT NULL,
    object_type TEXT NOT NULL,
    ext_id      TEXT NOT NULL,
    profile_id  TEXT NOT NULL,
    state       TEXT NOT NULL,
    merged_into TEXT NOT NULL DEFAULT '',
    placeholder INTEGER NOT NULL DEFAULT 0,
    company_key TEXT NOT NULL DEFAULT '',
    linked_at   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX links_profile ON links (profile_id);
CREATE INDEX links_company ON links (company_key) WHERE company_key <> '';
CREATE TABLE profile_merges (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    from_id  TEXT NOT NULL,
    into_id  TEXT NOT NULL,
    at       INTEGER NOT NULL,
    reason   TEXT NOT NULL,
    evidence TEXT NOT NULL
);
CREATE INDEX profile_merges_from ON profile_merges (from_id);
CREATE INDEX profile_merges_into ON profile_merges (into_id);
CREATE TABLE identity_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    profile_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    ref_key    TEXT NOT NULL,
    detail     TEXT NOT NULL
);
CREATE INDEX identity_events_profile ON identity_events (profile_id);
CREATE TABLE companies (
    ref_key     TEXT PRIMARY KEY,
    platform    TEXT NOT NULL,
    account     TEXT NOT NULL,
    object_type TEXT NOT NULL,
    ext_id      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE TABLE orders (
    ref_key       TEXT PRIMARY KEY,
    platform      TEXT NOT NULL,
    account       TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    ext_id        TEXT NOT NULL,
    profile_id    TEXT NOT NULL,
    customer_key  TEXT NOT NULL,
    billing_email TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    currency      TEXT NOT NULL,
    total         INTEGER NOT NULL,
    refunded      INTEGER NOT NULL,
    digest        TEXT NOT NULL,
    data          TEXT NOT NULL
);
CREATE INDEX orders_profile ON orders (profile_id, created_at);
CREATE TABLE order_items (
    order_key  TEXT NOT NULL,
    line_no    INTEGER NOT NULL,
    sku        TEXT NOT NULL,
    name       TEXT NOT NULL,
    category   TEXT NOT NULL,
    quantity   INTEGER NOT NULL,
    unit_price INTEGER NOT NULL,
    currency   TEXT NOT NULL,
    PRIMARY KEY (order_key, line_no)
);
CREATE TABLE cursors (
    platform   TEXT NOT NULL,
    account    TEXT NOT NULL,
    object     TEXT NOT NULL,
    cursor     TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (platform, account, object)
);
CREATE TABLE memberships (
    profile_id TEXT NOT NULL,
    segment    TEXT NOT NULL,
    since      INTEGER NOT NULL,
    control    INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (profile_id, segment)
);
CREATE INDEX memberships_segment ON memberships (segment, profile_id);
CREATE TABLE membership_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id TEXT NOT NULL,
    segment    TEXT NOT NULL,
    entered    INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    control    INTEGER NOT NULL,
    reason     TEXT NOT NULL
);
CREATE INDEX membership_history_profile ON membership_history (profile_id, id);
CREATE TABLE ownership (
    ref_key     TEXT NOT NULL,
    platform    TEXT NOT NULL,
    account     TEXT NOT NULL,
    object_type TEXT NOT NULL,
    ext_id      TEXT NOT NULL,
    target      TEXT NOT NULL,
    value       TEXT NOT NULL,
    written_at  INTEGER NOT NULL,
    PRIMARY KEY (ref_key, target, value)
);
CREATE TABLE inbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    platform     TEXT NOT NULL,
    account      TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    payload      BLOB NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    processed_at INTEGER NOT NULL DEFAULT 0,
    not_before   INTEGER NOT NULL DEFAULT 0,
    leased_until INTEGER NOT NULL DEFAULT 0,
    UNIQUE (platform, event_id)
);
CREATE INDEX inbox_pending ON inbox (processed_at, not_before, id);
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    platform     TEXT NOT NULL,
    account      TEXT NOT NULL,
    item_key     TEXT NOT NULL,
    payload      BLOB NOT NULL,
    status       TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    not_before   INTEGER NOT NULL,
    leased_until INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX outbox_pending_key ON outbox (platform, account, item_key) WHERE status = 'pending';
CREATE INDEX outbox_due ON outbox (platform, account, status, not_before, id);
CREATE TABLE quarantine (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL,
    account  TEXT NOT NULL,
    object   TEXT NOT NULL,
    ref_key  TEXT NOT NULL,
    ref      TEXT NOT NULL,
    reason   TEXT NOT NULL,
    raw      BLOB NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX quarantine_ref ON quarantine (ref_key);
