-- Deferred write-back items: the daemon writes a record's property
-- changes at once and holds its membership changes (one call per list on
-- some platforms) to write many records' together; see OutboxDefer.
ALTER TABLE outbox ADD COLUMN deferred SMALLINT NOT NULL DEFAULT 0;
