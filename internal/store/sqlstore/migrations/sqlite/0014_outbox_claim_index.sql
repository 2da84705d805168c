-- Write-back claims take a platform's oldest due items: walking this
-- index in id order per status stops after the batch, where outbox_due
-- (ordered by not_before) made every claim read and sort every due item
-- of the platform, a cost that grew with the queue.
CREATE INDEX outbox_claim ON outbox (platform, account, status, id);
