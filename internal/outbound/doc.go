// Package outbound delivers segment events to the URLs a user configures
// (outbound_webhooks in the config): every change of membership becomes a
// segment.entered or segment.left event, events are sent in batches as one
// signed JSON POST per batch, failed batches are retried with exponential
// backoff and, after the configured number of attempts, dead-lettered where
// the CLI can list and re-queue them.
//
// Deliveries are durable. Publish writes one row per (endpoint, event) into
// the store's outbound_deliveries table (a numbered store migration, like
// every other table) before anything is sent, and a row leaves the pending
// state only when a receiver answered 2xx or the row is dead-lettered, so a
// restart loses nothing: a batch in flight when the process died is claimed
// again once its lease runs out. The table lives behind the Queue
// interface; StoreQueue implements it over the store's store.Deliveries,
// which holds the SQL for SQLite and PostgreSQL.
//
// Retries have one layer only. A single attempt is one plain net/http POST
// that never retries and never follows redirects; the schedule between
// attempts is store.Backoff (cenkalti/backoff/v4's ExponentialBackOff, the
// one backoff type of the store's three lease queues), whose next interval
// is persisted in the row (next_attempt_at) instead of being slept on in
// memory, which is what makes the schedule survive a restart and lets
// several replicas share one queue. Delivery is in order per endpoint: while
// a batch waits for its retry, later events for that endpoint wait behind
// it (a down receiver gets no traffic but the retry), and events for other
// endpoints are unaffected.
//
// Receivers verify a batch with Verify; README.md documents the headers,
// the body and a recipe for other languages.
package outbound
