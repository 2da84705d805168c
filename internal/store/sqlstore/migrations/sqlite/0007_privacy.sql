-- Erasure on request (or from a platform's privacy deletion): an audit
-- entry per erasure, one task per platform record to delete, and the
-- suppression list that keeps an erased person from being imported again.
-- Nothing here holds personal data: the person is named by the SHA-256 of
-- their normalised email and by opaque ids.
CREATE TABLE suppression (
    email_hash TEXT PRIMARY KEY,
    erasure_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE erasures (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    profile_id   TEXT NOT NULL,
    subject_hash TEXT NOT NULL,
    source       TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    completed_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX erasures_open ON erasures (completed_at, id);
CREATE TABLE erasure_tasks (
    erasure_id  INTEGER NOT NULL,
    ref_key     TEXT NOT NULL,
    platform    TEXT NOT NULL,
    account     TEXT NOT NULL,
    object_type TEXT NOT NULL,
    ext_id      TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    answer      TEXT NOT NULL DEFAULT '',
    not_before  INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (erasure_id, ref_key)
);
CREATE INDEX erasure_tasks_due ON erasure_tasks (status, not_before);
