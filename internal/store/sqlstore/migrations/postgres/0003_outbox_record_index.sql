-- Write-back claims look up other items of the same record (superseded
-- or in flight); this index keeps that a lookup, not a scan.
CREATE INDEX outbox_record ON outbox (platform, account, item_key, id);
