package mailchimp_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/plugins/mailchimp"
	"github.com/segconn/connector/plugins/mailchimp/mailchimpfake"
	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdktest"
)

func refsOf(list string, ms []*mailchimpfake.Member) []domain.ExternalRef {
	out := make([]domain.ExternalRef, len(ms))
	for i, m := range ms {
		out[i] = domain.ExternalRef{Platform: mailchimp.Name, Account: list, ObjectType: domain.ObjectContact, ID: m.ID}
	}
	return out
}

func config(f *mailchimpfake.Fake) adapter.Config {
	return adapter.Config{"api_key": f.APIKey, "list_id": f.ListID, "base_url": f.URL}
}

func harness() sdktest.Harness {
	return sdktest.Harness{
		Name: "mailchimp",
		New:  func(testing.TB) adapter.Adapter { return sdk.Adapt(mailchimp.New()) },
		Start: func(t testing.TB) *sdktest.Fake {
			f := mailchimpfake.Start(t.Cleanup)
			return &sdktest.Fake{
				Config:      config(f),
				Seed:        func(n int) ([]domain.ExternalRef, error) { return refsOf(f.ListID, f.Seed(n)), nil },
				PageSize:    10,
				MaxPageSize: 1000,
				MissingID:   mailchimpfake.SubscriberHash("nobody@example.com"),
				RateLimit:   f.RateLimit,
				RejectPush:  func(r domain.ExternalRef) { f.RejectTags(r.ID) },
				Membership: func(r domain.ExternalRef) (map[string]string, []string, error) {
					tags, err := f.ActiveTags(r.ID)
					return nil, tags, err
				},
			}
		},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, harness())
}

func TestConformanceOverGRPC(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, sdktest.GRPC(harness()))
}

func TestConformanceAsAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin: skipped in -short mode")
	}
	t.Parallel()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/mailchimp/cmd/connector-mailchimp")
	sdktest.RunConformance(t, sdktest.Subprocess(harness(), bin))
}

// A member's id is the MD5 of the lower-cased email (Mailchimp's
// subscriber hash), whatever the case the address was given in.
func TestSubscriberHash(t *testing.T) {
	// md5("urist.mcvankab@freddiesjokes.com"), the example in Mailchimp's docs.
	if got := mailchimp.SubscriberHash("Urist.McVankab@FreddiesJokes.com"); got != "62eeb292278cc15f5817cb78f7790b08" {
		t.Errorf("SubscriberHash = %s", got)
	}
}

// A big write-back never opens more than Mailchimp's 10 connections (the
// fake answers 429 beyond them), and makes one call per member.
func TestPushKeepsToTheConnectionLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := mailchimpfake.Start(t.Cleanup)
	members := f.Seed(300)
	p := mailchimp.New()
	if err := p.Configure(ctx, config(f)); err != nil {
		t.Fatal(err)
	}
	es, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "list:vip", Kind: adapter.TargetList, Name: "segment: vip"}})
	if err != nil {
		t.Fatal(err)
	}
	req := adapter.PushRequest{Targets: map[string]string{"list:vip": es[0].PlatformID}}
	for i, r := range refsOf(f.ListID, members) {
		req.Items = append(req.Items, adapter.PushItem{ID: fmt.Sprint(i), Ref: r, Add: []string{"list:vip"}})
	}
	before := f.Stats().Requests
	res, err := p.Push(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("result %+v", r)
		}
	}
	st := f.Stats()
	if st.MaxConcurrent > mailchimpfake.MaxConnections || st.TooManyAnswers > 0 {
		t.Errorf("push opened %d connections at once (%d answered 429); the limit is %d", st.MaxConcurrent, st.TooManyAnswers, mailchimpfake.MaxConnections)
	}
	if st.MaxConcurrent < 2 {
		t.Errorf("push never ran requests in parallel (max %d)", st.MaxConcurrent)
	}
	if calls := st.Requests - before; calls != int64(len(members)) {
		t.Errorf("push made %d calls for %d members, want one each", calls, len(members))
	}
	tags, _ := f.ActiveTags(members[299].ID)
	if len(tags) != 1 || tags[0] != "segment: vip" {
		t.Errorf("member tags after push: %v", tags)
	}
}
