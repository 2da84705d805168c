// Package sqlstore is the one implementation of store.Store behind both
// drivers: the SQL, the migrations and the loading and writing around
// identity resolution are written once against database/sql, and a Dialect covers what differs
// between SQLite and PostgreSQL (placeholders, row locking, serialising
// identity resolution, the migration files).
//
// database/sql is used for both because modernc.org/sqlite is a
// database/sql driver and pgx offers the same interface over a pgxpool
// (stdlib.OpenDBFromPool), so one body of SQL serves both stores while the
// PostgreSQL store still owns a real pgxpool for the job queue.
//
// The SQL is one file per table or area: cursors.go, memberships.go,
// ownership.go, inbox.go, outbox.go, deliveries.go (outbound webhooks),
// quarantine.go; lease.go holds the claim step the three lease queues
// share, lock.go the in-process locks, engine.go the migrations.
//
// # Storage conventions
//
// Times are microseconds since the Unix epoch (0 for unknown) and documents
// JSON text, so both databases hold identical values; no column is NULL.
// Bulk writes are multi-row INSERT … ON CONFLICT statements of up to 500
// rows (fewer when the row is wide), all inside the page's transaction.
//
// # ApplyPage, step by step
//
// One transaction per page. It loads what the page can touch in a few
// IN-list queries (the links of every record named, the profiles holding
// every email named, those profiles' other links and emails, the stored
// versions of the page's orders and companies), resolves identities in
// memory in page order, then writes everything back in bulk and moves the
// cursor. A crash anywhere leaves the page wholly stored or wholly absent.
//
// # Identity resolution
//
// The rules are not here: ApplyPage loads the rows a page can touch into
// an identity.Snapshot (load.go), lets Snapshot.Apply and
// Snapshot.FoldProfile decide, and writes what they marked, one table at a
// time (write.go, write_profiles.go, write_orders.go). Every platform
// record is a row of links holding the record as last pulled and, beside
// it (field_times in the data document), when each of its fields last
// changed, which survivorship compares instead of the platform's own
// modification stamp.
//
// On PostgreSQL each ApplyPage takes a transaction-scoped advisory lock
// first, so replicas resolve identities one page at a time and never both
// create a profile for the same person; on SQLite the single writer
// connection serialises them anyway.
package sqlstore
