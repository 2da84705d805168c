-- Outbound webhook deliveries (segment.entered / segment.left to the
-- receivers under outbound), a lease queue ordered per endpoint.
--
-- Before this migration the outbound queue created this table itself, with
-- its times in milliseconds. A database from then keeps its table and rows;
-- the UPDATE below turns those times into microseconds like every other
-- table's. On a new database the table is created here, empty, and the
-- UPDATE changes nothing.
CREATE TABLE IF NOT EXISTS outbound_deliveries (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	endpoint TEXT NOT NULL,
	event_id TEXT NOT NULL,
	event_type TEXT NOT NULL,
	payload TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending',
	attempts INTEGER NOT NULL DEFAULT 0,
	created_at BIGINT NOT NULL,
	next_attempt_at BIGINT NOT NULL,
	claimed_until BIGINT NOT NULL DEFAULT 0,
	last_attempt_at BIGINT NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	done_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (endpoint, event_id)
);
UPDATE outbound_deliveries SET
	created_at = created_at * 1000,
	next_attempt_at = next_attempt_at * 1000,
	claimed_until = claimed_until * 1000,
	last_attempt_at = last_attempt_at * 1000,
	done_at = done_at * 1000;
CREATE INDEX IF NOT EXISTS outbound_deliveries_queue ON outbound_deliveries (endpoint, status, id);
CREATE INDEX IF NOT EXISTS outbound_deliveries_status ON outbound_deliveries (status, id);
