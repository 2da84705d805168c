// Package outbound delivers segment events to the URLs a user configures
// (outbound_webhooks in the config): every change of membership becomes a
// segment.entered or segment.left event, events are sent in batches as one
// signed JSON POST per batch, failed batches are retried with exponential
// backoff and, after the configured number of attempts, dead-lettered where
// the CLI can list and re-queue them.
//
// Deliveries are durable. Publish writes one row per (endpoint, event) into
// a small table of this package's own (outbound_deliveries, created by
// Migrate) before anything is sent, and a row leaves the pending state only
// when a receiver answered 2xx or the row is dead-lettered, so a restart
// loses nothing: a batch in flight when the process died is claimed again
// once its lease runs out. The table lives behind the Queue interface; SQLQueue
// implements it over database/sql for SQLite (modernc.org/sqlite) and
// PostgreSQL (pgx's stdlib adapter), with the same SQL for both.
//
// Retries have one layer only. A single attempt is one plain net/http POST
// that never retries and never follows redirects; the schedule between
// attempts is cenkalti/backoff/v4's ExponentialBackOff, whose next interval
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
