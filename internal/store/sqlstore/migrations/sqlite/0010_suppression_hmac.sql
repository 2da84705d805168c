-- The suppression list keys an erased email by an HMAC-SHA-256 under a
-- secret key rather than its plain SHA-256, which anyone holding a list of
-- candidate emails could match. The key is store.suppression_secret from
-- the configuration, or else one generated once and kept in store_keys
-- (with a check value that detects a changed configured secret). Rows
-- written before keep scheme 'sha256' until the email is seen again (a
-- pull, a webhook, an erase request), which rewrites them under the key.
ALTER TABLE suppression ADD COLUMN scheme TEXT NOT NULL DEFAULT 'sha256';
CREATE TABLE store_keys (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
