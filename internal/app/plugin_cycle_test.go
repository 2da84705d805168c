package app_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/apptest"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// TestMailchimpPluginCycleIsExact: the Mailchimp adapter plugin, built as
// its own executable and run as a plugin process, takes part in two full
// cycles with the built-in platforms; afterwards every audience member
// has exactly the computed segments as tags and segment values as merge
// fields (none missing, none extra), a tag set by hand stays, and the
// merge fields the connector does not own (FNAME) are untouched.
func TestMailchimpPluginCycleIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Mailchimp plugin and runs two cycles against four fake platforms")
	}
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/mailchimp/cmd/connector-mailchimp")
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, Customers: 150, AsOf: asOf, Mailchimp: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	l := sb.ConnectorConfig(t.TempDir())
	pc, err := sb.MailchimpPlugin(bin)
	if err != nil {
		t.Fatal(err)
	}
	pc.Config["batch_poll"] = "10ms"
	l.Plugins = append(l.Plugins, pc)
	for _, d := range app.DefaultSegments(append(sb.Names(), sandbox.Mailchimp)) {
		l.Segments = append(l.Segments, d.(map[string]any))
	}
	if err := apptest.PrepareSandbox(sb, l); err != nil {
		t.Fatal(err)
	}
	env, err := app.Open(ctx, l, slog.New(slog.DiscardHandler), apptest.Factories(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close(context.Background()) })

	cycle := func(at time.Time) {
		t.Helper()
		rep, err := env.Cycle(ctx, at, nil)
		if err != nil {
			t.Fatal(err)
		}
		for p, e := range rep.PullErrors {
			t.Fatalf("pull %s: %s", p, e)
		}
		for p, e := range rep.PushErrors {
			t.Fatalf("push %s: %s", p, e)
		}
	}
	cycle(asOf)
	ids := env.Pipeline.TargetIDs(sandbox.Mailchimp)
	champions := ids["list:rfm:champions"]
	if champions == "" {
		t.Fatalf("no Mailchimp tag for rfm:champions among %v", ids)
	}
	// A person tags a member as a champion by hand.
	exp := apptest.ComputeExpected(t, env, sandbox.Mailchimp)
	hand := ""
	for rk := range exp.Props {
		if !exp.Lists["list:rfm:champions"][rk] {
			hand = strings.TrimPrefix(rk, "contact/")
			break
		}
	}
	form, err := sb.MailchimpFake.WebhookForm("profile", hand)
	if err != nil {
		t.Fatal(err)
	}
	fname := form.Get("data[merges][FNAME]")
	sb.MailchimpFake.TagByHand(hand, champions)
	// The business moves on: new orders change some segments.
	wooIDs := sb.WooFake.CustomerIDs()
	for i := 0; i < 10; i++ {
		c, _ := sb.WooFake.Customer(wooIDs[(i*7)%len(wooIDs)])
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "X-1", Name: "gift", Category: "garden", Quantity: 3,
			UnitPrice: domain.Money{Amount: 250_00, Currency: "USD"}}}, "mobile")
	}
	cycle(asOf.Add(24 * time.Hour))

	exp = apptest.ComputeExpected(t, env, sandbox.Mailchimp)
	ids = env.Pipeline.TargetIDs(sandbox.Mailchimp)
	checked := 0
	for rk, props := range exp.Props {
		id := strings.TrimPrefix(rk, "contact/")
		merges, err := sb.MailchimpFake.MergeValues(id)
		if err != nil {
			t.Errorf("member %s: %v", id, err)
			continue
		}
		for key, want := range props {
			tag := ids[key]
			if tag == "" && want == "" {
				continue
			}
			if got := merges[tag]; got != want {
				t.Errorf("member %s merge field %s (%s) = %q, want %q", id, tag, key, got, want)
			}
			checked++
		}
	}
	tagged := map[string]map[string]bool{}
	for rk := range exp.Props {
		id := strings.TrimPrefix(rk, "contact/")
		tags, _ := sb.MailchimpFake.ActiveTags(id)
		for _, tg := range tags {
			if tagged[tg] == nil {
				tagged[tg] = map[string]bool{}
			}
			tagged[tg][rk] = true
		}
	}
	for key, tag := range ids {
		if !strings.HasPrefix(key, "list:") {
			continue
		}
		got, want := tagged[tag], exp.Lists[key]
		if key == "list:rfm:champions" {
			if !got["contact/"+hand] {
				t.Errorf("the champion tag set by hand on %s was removed", hand)
			}
			delete(got, "contact/"+hand)
		}
		var missing, extra []string
		for rk := range want {
			if !got[rk] {
				missing = append(missing, rk)
			}
		}
		for rk := range got {
			if !want[rk] {
				extra = append(extra, rk)
			}
		}
		if len(missing)+len(extra) > 0 {
			t.Errorf("tag %s (%s): missing %v, extra %v", tag, key, missing, extra)
		}
		checked += len(want)
	}
	after, _ := sb.MailchimpFake.WebhookForm("profile", hand)
	if after.Get("data[merges][FNAME]") != fname {
		t.Errorf("FNAME of %s changed from %q to %q", hand, fname, after.Get("data[merges][FNAME]"))
	}
	t.Logf("checked %d Mailchimp values over %d members; tags %v", checked, len(exp.Props), keysSorted(tagged))
	if checked < 100 {
		t.Fatalf("only %d values checked", checked)
	}
}

func keysSorted(m map[string]map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s=%d", k, len(v)))
	}
	slices.Sort(out)
	return out
}
