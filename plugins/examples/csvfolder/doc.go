// Package csvfolder is the example third-party adapter: a spreadsheet
// "platform". Customers and orders are read from customers.csv and
// orders.csv in a folder (as exported from a spreadsheet, a till or an
// old shop); segment memberships are written back to memberships.csv in
// the same folder, one row per customer with a column per property target
// and a "lists" column, ready to open in a spreadsheet or mail-merge.
//
// It is useful on its own (a small shop without an API-backed platform can
// still be segmented) and it shows a plugin author everything the contract
// asks for: paged pulls with a resumable cursor, quarantine of malformed
// rows naming file, line and column, per-item push results, idempotent
// absolute writes, and webhook verification (an HMAC-SHA256 signed "rows
// changed" notification a sheet script can send).
//
// It imports only the standard library, adapter and domain: the
// cmd/connector-csvfolder main package wraps it with sdk.Serve.
//
// Cursors: rows are ordered by (updated_at, id) (created_at when
// updated_at is empty); a cursor is the last key delivered, so appending or
// editing a row with a later updated_at makes it show up in the next
// incremental pull.
package csvfolder
