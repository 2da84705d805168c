// Package storetest is the one test suite every store.Store implementation
// must pass, run by internal/store/sqlite and internal/store/postgres
// against a real SQLite file and a real PostgreSQL database.
package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
)

// Factory opens a fresh, empty store for one test; it registers its own
// cleanup with t.Cleanup.
type Factory func(t testing.TB, opts store.Options) store.Store

// Clock is a settable clock for Options.Now.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at a fixed time.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Run runs the whole suite.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Factory)
	}{
		{"Migrations", testMigrations},
		{"Lock", testLock},
		{"Deliveries", testDeliveries},
		{"Runs", testRuns},
		{"WebState", testWebState},
		{"ThreePlatformsOnePerson", testThreePlatformsOnePerson},
		{"MostRecentWins", testMostRecentWins},
		{"Idempotent", testIdempotent},
		{"EmailJoinsTwoProfiles", testEmailJoinsTwoProfiles},
		{"PlatformMerge", testPlatformMerge},
		{"MergedIDs", testMergedIDs},
		{"DeleteKeepsHistory", testDeleteKeepsHistory},
		{"PrivacyErase", testPrivacyErase},
		{"SuppressionUpgrade", testSuppressionUpgrade},
		{"EraseEverywhere", testEraseEverywhere},
		{"PrivacyDeletionFansOut", testPrivacyDeletionFansOut},
		{"GuestOrders", testGuestOrders},
		{"Orders", testOrders},
		{"Companies", testCompanies},
		{"Quarantine", testQuarantine},
		{"Cursor", testCursor},
		{"Spend", testSpend},
		{"ImplicitRefs", testImplicitRefs},
		{"ListAndEach", testListAndEach},
		{"Inbox", testInbox},
		{"OutboxClaimConcurrent", testOutboxClaimConcurrent},
		{"OutboxRetry", testOutboxRetry},
		{"OutboxSupersede", testOutboxSupersede},
		{"OutboxPriors", testOutboxPriors},
		{"OutboxSettle", testOutboxSettle},
		{"OutboxDeferLanes", testOutboxDeferLanes},
		{"OutboxLateFailure", testOutboxLateFailure},
		{"OutboxRequeue", testOutboxRequeue},
		{"Prune", testPrune},
		{"PruneHistoryAndQuarantine", testPruneHistoryAndQuarantine},
		{"RecordPlanWhole", testRecordPlanWhole},
		{"RecordPlanStreams", testRecordPlanStreams},
		{"Ownership", testOwnership},
		{"Memberships", testMemberships},
		{"MembershipsVolume", testMembershipsVolume},
		{"HistorySince", testHistorySince},
		{"ConcurrentApply", testConcurrentApply},
		{"RandomPages", testRandomPages},
		{"ChangesPruned", testChangesPruned},
		{"SavedInputs", testSavedInputs},
		{"MembershipChanges", testMembershipChanges},
		{"EmailChange", testEmailChange},
		{"DeletedPersonReturns", testDeletedPersonReturns},
		{"MergeClosesMemberships", testMergeClosesMemberships},
		{"CompanyDelete", testCompanyDelete},
		{"BillingCompanyKeepsFirmographics", testBillingCompanyKeepsFirmographics},
		{"EchoMovesNoField", testEchoMovesNoField},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open)
		})
	}
}
