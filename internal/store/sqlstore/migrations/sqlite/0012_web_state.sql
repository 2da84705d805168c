-- What the web app keeps across restarts.
--
-- Sessions by the SHA-256 of their cookie (the cookie itself is never
-- stored), with the session's CSRF token and expiry.
CREATE TABLE IF NOT EXISTS web_sessions (
	session_key TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	role TEXT NOT NULL,
	csrf TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_sessions_expiry ON web_sessions (expires_at);
-- Plans made for review, by fingerprint, with what the web app shows
-- of them (JSON), so a plan made before a restart can still be applied.
CREATE TABLE IF NOT EXISTS web_plans (
	fingerprint TEXT PRIMARY KEY,
	made_at BIGINT NOT NULL,
	view TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_plans_made ON web_plans (made_at);
-- Segment definitions written with the segment builder (JSON, as the
-- configuration file would hold them); the configured definitions are
-- the default, and a stored one of the same name replaces it.
CREATE TABLE IF NOT EXISTS segment_definitions (
	name TEXT PRIMARY KEY,
	definition TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	updated_by TEXT NOT NULL DEFAULT ''
);
