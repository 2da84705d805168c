-- The history of runs: syncs, plans, applies and full cycles, with when
-- each started and ended, what it counted (JSON object of counts) and
-- its error. A run whose finished_at is 0 is running, or its process died.
CREATE TABLE IF NOT EXISTS runs (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind TEXT NOT NULL,
	platforms TEXT NOT NULL DEFAULT '',
	by_user TEXT NOT NULL DEFAULT '',
	started_at BIGINT NOT NULL,
	finished_at BIGINT NOT NULL DEFAULT 0,
	counts TEXT NOT NULL DEFAULT '{}',
	error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_kind ON runs (kind, id);
