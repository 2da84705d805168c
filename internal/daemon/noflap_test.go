package daemon_test

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestNoFlappingOverTenMinutesOfPulls: with HubSpot and Salesforce
// disagreeing about people's lifecycle stage (HubSpot says lead,
// marketing-qualified, customer…, Salesforce lead or contact), ten
// minutes of pulls every 10 seconds, on the fakes' clock, with no input
// at all, after the first cycle make no membership change and write
// nothing: the connector's own writes, which come back on every pull,
// do not move anyone between segments.
func TestNoFlappingOverTenMinutesOfPulls(t *testing.T) {
	if testing.Short() {
		t.Skip("sixty cycles against fake platforms")
	}
	const (
		people   = 1000
		interval = 10 * time.Second
		span     = 10 * time.Minute
	)
	ctx := context.Background()
	clk := &testenv.Clock{}
	asOf := clk.Now().UTC()
	sb, env, _ := apptest.StartSandboxWith(t, sandbox.Options{Customers: people, AsOf: asOf, Now: clk.Now}, app.Options{})
	if n := disagreeingStages(sb); n < 50 {
		t.Fatalf("only %d people have different lifecycle stages in HubSpot and Salesforce: the test would prove little", n)
	}
	first, err := env.Cycle(ctx, asOf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.Changes == 0 {
		t.Fatal("the first cycle made no membership: the test would prove nothing")
	}
	head, err := env.Store.MembershipHistoryHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Segments are computed as of the start throughout: a day boundary
	// crossed by the wall clock must not pass for a flap.
	rounds, changes, written, pulled := int(span/interval), 0, 0, 0
	for i := range rounds {
		clk.Advance(interval)
		rep, err := env.Cycle(ctx, asOf, nil)
		if err != nil {
			t.Fatalf("cycle %d: %v", i+1, err)
		}
		for p, e := range rep.PullErrors {
			t.Fatalf("cycle %d: pulling %s: %s", i+1, p, e)
		}
		for _, s := range rep.Pulled {
			for _, n := range s.Records {
				pulled += n
			}
		}
		for _, w := range rep.Written {
			written += w.OK
		}
		if rep.Changes > 0 {
			changes += rep.Changes
			t.Errorf("cycle %d (%v after the first): %d membership changes with no input", i+1, time.Duration(i+1)*interval, rep.Changes)
		}
	}
	if pulled == 0 {
		t.Fatal("the pulls read no record: the connector's writes did not come back, so nothing was tested")
	}
	after, err := env.Store.MembershipHistoryHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if changes > 0 || after != head || written > 0 {
		t.Fatalf("%v of pulls with no input: %d membership changes, %d history entries, %d records written; want none",
			span, changes, after-head, written)
	}
	t.Logf("%d cycles over %v re-read %d records; 0 membership changes", rounds, span, pulled)
}

// disagreeingStages counts the people on both CRMs whose HubSpot
// lifecycle stage is not their Salesforce one.
func disagreeingStages(sb *sandbox.Sandbox) int {
	sf := map[string]string{}
	for _, c := range sb.Data.Salesforce.Contacts {
		if len(c.Emails) > 0 {
			sf[domain.NormalizeEmail(c.Emails[0])] = c.LifecycleStage
		}
	}
	n := 0
	for _, c := range sb.Data.HubSpot.Contacts {
		if len(c.Emails) == 0 {
			continue
		}
		if st, ok := sf[domain.NormalizeEmail(c.Emails[0])]; ok && st != c.LifecycleStage {
			n++
		}
	}
	return n
}
