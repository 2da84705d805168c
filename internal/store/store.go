// Package store defines the persistence contract of the connector: unified
// profiles with their platform links, companies, orders and line items, sync
// cursors, segment memberships with their history, write-back ownership, a
// durable webhook inbox, a write-back outbox, the outbound webhook
// deliveries and a quarantine of records that could not be mapped.
//
// The store is the one owner of the database. It opens the pool once and
// hands it to River, the job queue (Database); its Migrate creates every
// table, River's included, under one lock; its times are microseconds
// everywhere. Store is made of role interfaces (Profiles, Orders, Cursors,
// Memberships, Inbox, Outbox, Deliveries, Locker): code that needs one
// role takes that one. The three lease queues (inbox, outbox, deliveries)
// share one retry schedule type, Backoff, and RetryPolicy.
//
// Two implementations satisfy the one Store interface and pass the one shared
// suite in storetest: internal/store/sqlite (the embedded default, one file
// in a data directory) and internal/store/postgres (for several replicas).
// Both are thin shells over internal/store/sqlstore, which holds the SQL and
// the identity-resolution unit of work once, with a small dialect for the
// differences.
package store

import (
	"context"
	"errors"
	"iter"
	"log/slog"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// ErrNotFound is wrapped by lookups that find nothing.
var ErrNotFound = errors.New("not found")

// Options are shared by both implementations.
type Options struct {
	// Logger receives store diagnostics; nil discards them.
	Logger *slog.Logger
	// Now is the clock used for bookkeeping timestamps (link times, merge
	// times, inbox and outbox times); nil means time.Now.
	Now func() time.Time
	// Survivorship is the source priority per profile field used when
	// records are folded into profiles (field -> platforms, best first;
	// see identity.Policy); nil means the newest non-empty value wins
	// every field.
	Survivorship map[string][]string
	// SuppressionKey is the secret the suppression list's email hashes
	// are keyed with (HMAC-SHA-256); nil means a random key generated
	// once and kept in the database.
	SuppressionKey []byte
}

// Store is the connector's persistence: one owner of the database, in
// roles. Code that needs one role takes that interface, not Store.
type Store interface {
	Profiles
	Orders
	Cursors
	Memberships
	Inbox
	Outbox
	Deliveries
	Locker
	Privacy
	Creations
	Maintenance
	Spends
	Runs
	WebState

	// Database returns the open database, for River, the job queue, whose
	// tables Migrate creates beside the store's.
	Database() Database
	// Migrate applies pending migrations (Open already does): the store's
	// numbered migrations and River's, under one lock so that replicas
	// starting together never race on the schema. It returns the store's
	// schema version.
	Migrate(ctx context.Context) (int, error)
	// Close releases the store's connections.
	Close() error
}

// Profiles holds unified profiles, their companies and where they came
// from, and the quarantine of records that could not be mapped.
type Profiles interface {
	// ApplyPage stores one page pulled from a platform in one transaction:
	// upserts contacts, companies and orders, resolves identities, records
	// deletes and merges, quarantines rejected records and moves the cursor
	// of (platform, account, object) to nextCursor. The cursor never moves
	// unless everything before it is stored.
	ApplyPage(ctx context.Context, platform, account, object string, changes []adapter.Change, rejected []adapter.Rejected, nextCursor string) (ApplyResult, error)

	// Profile returns a profile by id. An id that was merged away resolves
	// to the surviving profile.
	Profile(ctx context.Context, id string) (domain.Profile, error)

	// ProfileByEmail finds the profile holding a (normalised) email.
	ProfileByEmail(ctx context.Context, email string) (domain.Profile, error)

	// ProfileByRef finds the profile linked to a platform record.
	ProfileByRef(ctx context.Context, ref domain.ExternalRef) (domain.Profile, error)

	// ListProfiles returns up to limit profiles ordered by id, after the id
	// given ("" for the first page).
	ListProfiles(ctx context.Context, after string, limit int) ([]domain.Profile, error)

	// CountProfiles returns the number of profiles.
	CountProfiles(ctx context.Context) (int, error)

	// EachProfile streams every profile with its orders, ordered by profile
	// id, in pages so that not everything is in memory at once. Returning an
	// error from fn stops the walk and is returned.
	EachProfile(ctx context.Context, fn func(ProfileOrders) error) error

	// ChangeMark marks the profiles' state now: ChangedSince(mark) later
	// names every profile changed after it. Take it before reading what
	// it marks, so a change made during the read is named next time.
	ChangeMark(ctx context.Context) (int64, error)
	// ChangedSince names the profiles whose data, records or orders were
	// written after mark (at times a few more, never fewer), sorted, and
	// the mark to ask from next. complete is false when some of those
	// changes were pruned (Prune.ChangesBefore): the caller must reload
	// everything.
	ChangedSince(ctx context.Context, mark int64) (ids []string, next int64, complete bool, err error)
	// LoadProfiles reads the given profiles with their records and
	// orders, as EachProfile does, in id order; ids that do not exist
	// (any more) are absent.
	LoadProfiles(ctx context.Context, ids []string) ([]ProfileOrders, error)

	// EachSavedInput walks every profile in id order with its saved
	// segment input of the version given (see SaveInputs), data nil when
	// there is none or it is not current: the profile changed after it
	// was saved.
	EachSavedInput(ctx context.Context, version uint64, fn func(id string, data []byte) error) error
	// SaveInputs keeps segment inputs of the version given, made from
	// profiles read after mark (a ChangeMark); an input whose profile
	// changed after mark is not kept, and a change to a profile later
	// drops its input. Inputs are opaque to the store; they hold personal
	// data, and an erasure drops them with the profile's.
	SaveInputs(ctx context.Context, version uint64, mark int64, inputs []SavedInput) error

	// Company returns a company by its platform reference.
	Company(ctx context.Context, ref domain.ExternalRef) (domain.Company, error)

	// Explain tells where a profile came from: its links, merges, events
	// and the platform record behind each field.
	Explain(ctx context.Context, profileID string) (Explanation, error)

	// Quarantined lists quarantined records, newest first.
	Quarantined(ctx context.Context, platform string, limit int) ([]Quarantined, error)
	// QuarantineResolve removes quarantined records that a retry stored.
	QuarantineResolve(ctx context.Context, ids ...int64) error
}

// Orders reads the orders ApplyPage stored.
type Orders interface {
	// Orders returns a profile's orders, oldest first.
	Orders(ctx context.Context, profileID string) ([]domain.Order, error)
}

// Cursors keeps each platform's incremental sync position.
type Cursors interface {
	// Cursor returns the stored cursor, "" when none.
	Cursor(ctx context.Context, platform, account, object string) (string, error)

	// SetCursor stores a cursor outside ApplyPage (e.g. to reset a sync).
	SetCursor(ctx context.Context, platform, account, object, cursor string) error
}

// Memberships keeps segment memberships and their history.
type Memberships interface {
	// ApplyMemberships records segment entries and exits with their history.
	// An entry for a profile already in the segment, or an exit for one not
	// in it, changes nothing.
	ApplyMemberships(ctx context.Context, changes []MembershipChange) error

	// RecordPlan applies membership changes, enqueues write-back items and
	// marks the webhook events that caused them processed, in one
	// transaction: a plan is recorded whole or not at all. It reads the
	// outbox (nil for none) as it writes it, a batch at a time, so a plan's
	// encoded write-back is never held whole; an error the sequence yields
	// aborts the plan. A transaction that must run again walks outbox
	// again, so it yields the same items every time.
	RecordPlan(ctx context.Context, changes []MembershipChange, outbox iter.Seq2[OutboxItem, error], inboxDone []int64) error

	// Memberships returns the current memberships of one profile.
	Memberships(ctx context.Context, profileID string) ([]domain.Membership, error)

	// SegmentMembers returns the current members of one segment.
	SegmentMembers(ctx context.Context, segment string) ([]domain.Membership, error)

	// AllMemberships streams every current membership, by segment then profile.
	AllMemberships(ctx context.Context, fn func(domain.Membership) error) error

	// SegmentSizes counts each segment's members, holdout members
	// included. It reads every membership: call it rarely.
	SegmentSizes(ctx context.Context) (map[string]int, error)

	// MembershipHistory returns the entries and exits of one profile, oldest first.
	MembershipHistory(ctx context.Context, profileID string) ([]MembershipEvent, error)

	// MembershipHistorySince returns up to limit entries and exits of
	// every profile recorded after the one numbered after, in the order
	// they were recorded. Numbers grow with every change; 0 is before the
	// first. The outbound relay tails the history with it, so every
	// change recorded reaches the outbound webhooks, crash or not.
	MembershipHistorySince(ctx context.Context, after int64, limit int) ([]MembershipEvent, error)

	// MembershipHistoryHead returns the number of the newest history
	// entry, 0 when there is none.
	MembershipHistoryHead(ctx context.Context) (int64, error)

	// MembershipMark and MembershipsChangedSince are ChangeMark and
	// ChangedSince (see Profiles) for current memberships: the profiles
	// whose memberships were written after the mark.
	MembershipMark(ctx context.Context) (int64, error)
	MembershipsChangedSince(ctx context.Context, mark int64) (ids []string, next int64, complete bool, err error)
	// MembershipsOf returns the current memberships of many profiles, by
	// profile (profiles in no segment are absent).
	MembershipsOf(ctx context.Context, ids []string) (map[string][]domain.Membership, error)
}

// Inbox is the durable webhook inbox: a lease queue of received events.
type Inbox interface {
	// InboxAdd stores a webhook event durably. New is false when
	// (platform, event id) was stored before, in which case nothing changes.
	InboxAdd(ctx context.Context, item InboxItem) (id int64, isNew bool, err error)

	// InboxClaim leases up to limit unprocessed events (oldest first) for
	// lease; events whose lease ran out are offered again.
	InboxClaim(ctx context.Context, limit int, lease time.Duration) ([]InboxItem, error)

	// InboxDone marks events processed.
	InboxDone(ctx context.Context, ids ...int64) error

	// InboxFailed records a processing error and releases the lease so the
	// event is retried at retryAt.
	InboxFailed(ctx context.Context, id int64, reason string, retryAt time.Time) error

	// InboxPending lists unprocessed events, oldest first.
	InboxPending(ctx context.Context, limit int) ([]InboxItem, error)
}

// Outbox is the write-back queue, with the record of what the connector
// owns on each platform record.
type Outbox interface {
	// OutboxEnqueue adds write-back items. An item with the same platform,
	// account and Key as one still pending replaces it: items carry
	// absolute state, so only the newest matters.
	OutboxEnqueue(ctx context.Context, items []OutboxItem) error

	// OutboxClaim leases up to limit due items of one platform account.
	// Two claimers never receive the same item while its lease holds.
	OutboxClaim(ctx context.Context, platform, account string, limit int, lease time.Duration) ([]OutboxItem, error)

	// OutboxClaimLane is OutboxClaim narrowed to one lane: items never
	// deferred, or items OutboxDefer put aside.
	OutboxClaimLane(ctx context.Context, platform, account string, lane OutboxLane, limit int, lease time.Duration) ([]OutboxItem, error)

	// OutboxDefer puts leased items back as deferred, due at until, without
	// counting the claim as an attempt. An item whose record was enqueued
	// again meanwhile is closed instead: the newer item supersedes it.
	OutboxDefer(ctx context.Context, ids []int64, until time.Time) error

	// OutboxSettle records a write-back round's outcome in one
	// transaction: RecordOwnership of what it wrote, OutboxDone of the
	// items it finished and OutboxDefer of the items whose membership
	// changes wait (by the time they are due).
	OutboxSettle(ctx context.Context, s Settlement) error

	// OutboxDone marks items written, or superseded items settled.
	OutboxDone(ctx context.Context, ids []int64) error

	// OutboxFailed records an attempt's error. A retryable failure makes
	// the item due again at retryAt; a permanent one parks it as failed.
	// The attempt may have been written in part, so a retryable failure
	// also keeps a superseded copy of the item (see OutboxSuperseded).
	OutboxFailed(ctx context.Context, id int64, reason string, permanent bool, retryAt time.Time) error

	// OutboxSupersede marks leased items superseded by a newer item of
	// their record, their attempts' effect unknown (see OutboxSuperseded).
	OutboxSupersede(ctx context.Context, ids []int64) error

	// OutboxOpenKeys returns the keys of the platform's records with
	// unsettled items: pending, leased or superseded.
	OutboxOpenKeys(ctx context.Context, platform, account string) (map[string]bool, error)

	// OutboxOpen returns, by item key, the platform's unsettled items
	// (pending, leased or superseded), in the order they were queued
	// (a retry replaced in place keeps its place), so a plan can tell a
	// record whose queued state is already what it wants from one whose
	// earlier writes are still uncertain.
	OutboxOpen(ctx context.Context, platform, account string) (map[string][]OutboxItem, error)

	// OutboxPriors returns, by item key, the superseded items of these
	// records, oldest first: states an attempt may have written in part,
	// which the next write of the record must settle.
	OutboxPriors(ctx context.Context, platform, account string, keys []string) (map[string][]OutboxItem, error)

	// OutboxStats counts items by status.
	OutboxStats(ctx context.Context) (map[OutboxStatus]int, error)
	// OutboxParked lists failed (parked) items of one platform, or of
	// every platform when platform is "", newest failure first; limit
	// <= 0 lists them all.
	OutboxParked(ctx context.Context, platform string, limit int) ([]OutboxItem, error)
	// OutboxRecentWrites returns, by key, the items of these records of a
	// platform account written (done) at or after since, oldest first.
	OutboxRecentWrites(ctx context.Context, platform, account string, keys []string, since time.Time) (map[string][]OutboxItem, error)
	// OutboxRequeue makes failed items due again now, their attempts
	// reset, and returns how many it requeued. A failed item whose record
	// has a newer item (pending, leased, or another failed one requeued
	// with it) is superseded instead: the newer state is written and
	// settles it. Ids that are not failed items are ignored.
	OutboxRequeue(ctx context.Context, ids []int64) (int, error)

	// RecordOwnership remembers the values the connector itself wrote to
	// platform records; an entry with Released set forgets one. Write-back
	// removes only what it owns, never what a person set by hand.
	RecordOwnership(ctx context.Context, owned []Ownership) error

	// Ownership returns what the connector owns on one platform record.
	Ownership(ctx context.Context, ref domain.ExternalRef) ([]Ownership, error)

	// OwnershipMany is Ownership for many records at once, by ref key
	// (records that own nothing are absent).
	OwnershipMany(ctx context.Context, refs []domain.ExternalRef) (map[string][]Ownership, error)

	// OwnershipMark and OwnershipChangedSince are ChangeMark and
	// ChangedSince (see Profiles) for ownership: the ref keys of the
	// records whose ownership was written after the mark.
	OwnershipMark(ctx context.Context) (int64, error)
	OwnershipChangedSince(ctx context.Context, mark int64) (refKeys []string, next int64, complete bool, err error)
}

// Maintenance keeps the store bounded over years of running.
type Maintenance interface {
	// Prune deletes what retention no longer needs: done outbox items
	// last changed before p.OutboxBefore, webhook events processed before
	// p.InboxBefore, membership history entries recorded before
	// p.HistoryBefore and numbered at most p.HistoryUpTo, and quarantined
	// records stored before p.QuarantineBefore (a zero time prunes none).
	// Ownership, current memberships, failed items and items not yet
	// settled are kept.
	Prune(ctx context.Context, p Prune) (Pruned, error)
	// Checkpoint folds SQLite's write-ahead log into the database file
	// and truncates it; on PostgreSQL it does nothing.
	Checkpoint(ctx context.Context) error
}

// ApplyResult says what a page changed.
type ApplyResult struct {
	// Touched lists the profiles whose data or orders changed (sorted);
	// the daemon rescores them.
	Touched []string
	// Created lists profiles created by this page.
	Created []string
	// Merged maps each profile merged away to the one that absorbed it.
	Merged map[string]string
	// Upserted, Deleted and Skipped count records; Skipped are records
	// older than what is stored or identical to it.
	Upserted, Deleted, Skipped int
	// Quarantined counts rejected records stored, including changes the
	// store itself refused (e.g. a change without an id).
	Quarantined int
}

// SavedInput is one profile's segment input as a caller encoded it.
type SavedInput struct {
	ProfileID string
	Data      []byte
}

// ProfileOrders is one profile with its orders, for a full recompute.
type ProfileOrders struct {
	Profile domain.Profile
	Orders  []domain.Order
}

// LinkState is the state of a platform record's link to a profile.
type LinkState string

// Link states.
const (
	LinkActive  LinkState = "active"
	LinkDeleted LinkState = "deleted" // the platform deleted the record
	LinkMerged  LinkState = "merged"  // the platform merged it into another record
	LinkErased  LinkState = "erased"  // a privacy deletion erased it
)

// Link is one platform record attached to a profile.
type Link struct {
	Ref        domain.ExternalRef `json:"ref"`
	State      LinkState          `json:"state"`
	MergedInto string             `json:"merged_into,omitempty"` // ref key of the surviving record
	LinkedAt   time.Time          `json:"linked_at"`
	UpdatedAt  time.Time          `json:"updated_at,omitzero"` // the record's own update time
	// Placeholder is true for links known only from an order (a customer
	// reference or a guest's billing email), not from a contact record.
	Placeholder bool `json:"placeholder,omitempty"`
}

// Merge records that one profile was merged into another.
type Merge struct {
	From     string    `json:"from"`
	Into     string    `json:"into"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason"`   // e.g. "email", "platform merge", "external id"
	Evidence string    `json:"evidence"` // the email or ref key that joined them
}

// Event is one identity change of a profile's links.
type Event struct {
	At        time.Time `json:"at"`
	ProfileID string    `json:"profile_id"`
	Kind      string    `json:"kind"` // linked, relinked, deleted, merged, erased, ...
	RefKey    string    `json:"ref_key,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// Explanation tells where a profile came from.
type Explanation struct {
	Profile domain.Profile `json:"profile"`
	Links   []Link         `json:"links"`
	// Merges lists every profile merged into this one, directly or through
	// an earlier merge, oldest first.
	Merges []Merge `json:"merges"`
	// Events lists link changes of this profile and of those merged into it.
	Events []Event `json:"events"`
	// Sources maps each profile field to the platform record whose value won.
	Sources map[string]string `json:"sources"`
}

// MembershipChange enters or leaves a segment.
type MembershipChange struct {
	ProfileID string
	Segment   string
	Entered   bool // false means the profile left the segment
	At        time.Time
	Control   bool // holdout member (entries only)
	Reason    string
}

// MembershipEvent is a row of membership history.
type MembershipEvent struct {
	// Seq numbers the entry in the order changes were recorded.
	Seq       int64     `json:"seq,omitempty"`
	ProfileID string    `json:"profile_id"`
	Segment   string    `json:"segment"`
	Entered   bool      `json:"entered"`
	At        time.Time `json:"at"`
	Control   bool      `json:"control,omitempty"`
	Reason    string    `json:"reason,omitempty"`
}

// Ownership is one value or list membership the connector wrote to a
// platform record.
type Ownership struct {
	Ref       domain.ExternalRef `json:"ref"`
	Target    string             `json:"target"` // target key, e.g. "segments" or "list:vip"
	Value     string             `json:"value"`  // the value written; "" for a list membership
	WrittenAt time.Time          `json:"written_at"`
	// Released forgets the ownership (RecordOwnership only).
	Released bool `json:"-"`
}

// InboxItem is a stored webhook event.
type InboxItem struct {
	ID          int64
	Platform    string
	Account     string
	EventID     string
	ReceivedAt  time.Time
	Payload     []byte // the verified event, typically JSON of adapter.WebhookEvent
	Attempts    int
	LastError   string
	ProcessedAt time.Time
}

// Prune says what Store.Prune deletes.
type Prune struct {
	OutboxBefore time.Time
	InboxBefore  time.Time
	// HistoryBefore selects membership history entries recorded before
	// it; only those numbered at most HistoryUpTo go, so an entry the
	// outbound relay has not published yet is never lost.
	HistoryBefore time.Time
	HistoryUpTo   int64
	// QuarantineBefore selects quarantined records stored before it.
	QuarantineBefore time.Time
	// ChangesBefore deletes the record of which profiles changed (see
	// Profiles.ChangedSince) before it.
	ChangesBefore time.Time
	// RunsBefore deletes finished runs that started before it, and the
	// web app's sessions that expired before it.
	RunsBefore time.Time
}

// Pruned counts what Store.Prune deleted.
type Pruned struct {
	Outbox     int `json:"outbox"`
	Inbox      int `json:"inbox"`
	History    int `json:"history"`
	Quarantine int `json:"quarantine"`
	Runs       int `json:"runs"`
	Changes    int `json:"profile_changes"`
}

// Settlement is a write-back round's outcome (see OutboxSettle).
type Settlement struct {
	Owned []Ownership
	Done  []int64
	Defer map[time.Time][]int64
}

// OutboxStatus is the state of an outbox item.
type OutboxStatus string

// Outbox statuses.
const (
	OutboxPending OutboxStatus = "pending"
	OutboxLeased  OutboxStatus = "leased"
	OutboxDone    OutboxStatus = "done"
	OutboxFailed  OutboxStatus = "failed" // permanent failure, parked
	// OutboxSuperseded is an item a newer item of its record replaced
	// after an attempt whose effect is unknown: a crash during its push,
	// or a failure after part of it was written. The connector's
	// ownership records do not show what it may have written, so the
	// next write of the record sets every target it touched explicitly;
	// then it is done.
	OutboxSuperseded OutboxStatus = "superseded"
)

// OutboxLane narrows OutboxClaimLane to one kind of due item.
type OutboxLane int

// Outbox lanes.
const (
	LaneAny      OutboxLane = iota // every due item
	LaneFresh                      // items never deferred
	LaneDeferred                   // items put aside by OutboxDefer
)

// OutboxItem is one write-back to do.
type OutboxItem struct {
	ID       int64
	Platform string
	Account  string
	// Key identifies the platform record, usually Ref.Key(); a newer
	// pending item with the same key replaces an older one.
	Key       string
	Payload   []byte // typically JSON of adapter.PushItem
	Status    OutboxStatus
	Attempts  int
	LastError string
	NotBefore time.Time // due time
	CreatedAt time.Time // first enqueued; a newer state for the record keeps it
	// UpdatedAt is when the item last changed state; for a failed item,
	// when it failed.
	UpdatedAt time.Time
	// Deferred is true for an item OutboxDefer put aside; enqueueing a
	// newer state of the record makes it fresh again.
	Deferred bool
}

// Quarantined is a record that failed to map.
type Quarantined struct {
	ID       int64
	Platform string
	Account  string
	Object   string
	Ref      domain.ExternalRef
	Reason   string
	Raw      []byte
	At       time.Time
}
