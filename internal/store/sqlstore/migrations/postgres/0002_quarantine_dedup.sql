-- A record quarantined again for the same reason (a page applied twice, a
-- retried pull) updates its row instead of adding one.
DELETE FROM quarantine WHERE id NOT IN (SELECT MAX(id) FROM quarantine GROUP BY ref_key, reason);
CREATE UNIQUE INDEX quarantine_record_reason ON quarantine (ref_key, reason);
