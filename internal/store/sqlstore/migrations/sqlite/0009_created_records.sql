-- Records write-back created on a platform where a segment needed one:
-- which profile each was made for, so a plan can count them against a
-- platform's cap. The ref key is an opaque platform id, the profile id
-- the connector's own: no personal data.
CREATE TABLE created_records (
    ref_key    TEXT PRIMARY KEY,
    platform   TEXT NOT NULL,
    account    TEXT NOT NULL,
    profile_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX created_records_platform ON created_records (platform, account);
