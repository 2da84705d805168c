// Package sqlstore is the one implementation of store.Store behind both
// drivers: the SQL, the migrations and the identity-resolution unit of work
// are written once against database/sql, and a Dialect covers what differs
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
// Every platform record is a link (table links) to one profile, and the
// profile is recomputed from its active links by identity.Fold: the most
// recently updated record wins each field and is remembered as its source.
//
//   - A contact joins the profile of its own link, of any of its
//     normalised emails, and of the records the platform merged into it
//     (Contact.MergedIDs). When these are several profiles they merge: the
//     oldest survives, orders, links and history move to it, memberships of
//     the absorbed profile are closed with a history row, and the merge is
//     recorded with its reason (email, external id, platform merge) and
//     evidence. Profile(id) of an absorbed profile returns the survivor.
//   - An update older than the stored version of a record is skipped, so
//     pages may arrive out of order; an identical update changes nothing,
//     so re-applying a page reports no touched profile.
//   - A platform merge (ChangeMerge or MergedIDs) marks the loser's link
//     merged into the winner: it stays for explain but no longer feeds the
//     profile or write-back. If the winner is not known yet a placeholder
//     link holds its place.
//   - A platform delete marks the link deleted; the profile is recomputed
//     from the remaining records. When none remains the profile keeps its
//     last state, emails included, so a person who returns is recognised and
//     orders and history stay attached.
//   - Orders attach through their customer reference; an unknown customer
//     gets a placeholder link (carrying the billing email) that the real
//     contact later fills. Guest orders attach by billing email to a pseudo
//     record of object type "guest" whose id is a hash of the email; a
//     profile is created when nobody has that email.
//   - A privacy deletion erases the whole profile: every link keeps only
//     its id and is marked erased (and is never imported again), the
//     profile's fields and emails go, orders stay with their billing email
//     removed, quarantined raw records of those links are deleted and merge
//     evidence is blanked. Other platforms must be asked to delete their
//     copies; until they do, their records are skipped.
//
// On PostgreSQL each ApplyPage takes a transaction-scoped advisory lock
// first, so replicas resolve identities one page at a time and never both
// create a profile for the same person; on SQLite the single writer
// connection serialises them anyway.
package sqlstore
