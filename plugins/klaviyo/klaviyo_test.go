package klaviyo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/segconn/connector/plugins/klaviyo"
	"github.com/segconn/connector/plugins/klaviyo/klaviyofake"
	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

func refsOf(ps []*klaviyofake.Profile) []domain.ExternalRef {
	out := make([]domain.ExternalRef, len(ps))
	for i, p := range ps {
		out[i] = domain.ExternalRef{Platform: klaviyo.Name, ObjectType: domain.ObjectContact, ID: p.ID}
	}
	return out
}

func config(f *klaviyofake.Fake) adapter.Config {
	return adapter.Config{"api_key": f.APIKey, "base_url": f.URL, "job_poll": "5ms"}
}

func configured(t *testing.T, f *klaviyofake.Fake) *klaviyo.Plugin {
	t.Helper()
	p := klaviyo.New()
	if err := p.Configure(context.Background(), config(f)); err != nil {
		t.Fatal(err)
	}
	return p
}

func harness() sdktest.Harness {
	return sdktest.Harness{
		Name: "klaviyo",
		New:  func(testing.TB) adapter.Adapter { return sdk.Adapt(klaviyo.New()) },
		Start: func(t testing.TB) *sdktest.Fake {
			f := klaviyofake.Start(t.Cleanup)
			return &sdktest.Fake{
				Config:      config(f),
				Seed:        func(n int) ([]domain.ExternalRef, error) { return refsOf(f.Seed(n)), nil },
				PageSize:    10,
				MaxPageSize: 100,
				MissingID:   "01JZZZZZZZZZZZZZZZZZZZZZZZ",
				RateLimit:   f.RateLimit,
				RejectPush:  func(r domain.ExternalRef) { f.RejectProfile(r.ID) },
				Membership: func(r domain.ExternalRef) (map[string]string, []string, error) {
					props, err := f.Properties(r.ID)
					if err != nil {
						return nil, nil, err
					}
					out := map[string]string{}
					for k, v := range props {
						out[k] = fmt.Sprint(v)
					}
					return out, f.ListsOf(r.ID), nil
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
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/klaviyo/cmd/connector-klaviyo")
	sdktest.RunConformance(t, sdktest.Subprocess(harness(), bin))
}

// A profile's email marketing consent becomes the contact's consent, and
// its Opened Email and Clicked Email events its engagement; a later pull
// brings a profile whose consent changed and one who only opened an
// email since (Klaviyo does not touch updated for events).
func TestConsentAndEngagement(t *testing.T) {
	t.Parallel()
	f := klaviyofake.Start(t.Cleanup)
	ps := f.Seed(3)
	f.SetConsent(ps[1].ID, klaviyofake.Unsubscribed)
	f.SetConsent(ps[2].ID, klaviyofake.NeverSubscribed)
	f.Engage(ps[0].ID, "Opened Email", 3)
	f.Engage(ps[0].ID, "Clicked Email", 1)
	f.Engage(ps[1].ID, "Placed Order", 2)
	p := configured(t, f)
	byID, cur := pullAll(t, p, "")
	want := map[string]domain.ConsentState{ps[0].ID: domain.ConsentGranted, ps[1].ID: domain.ConsentRevoked, ps[2].ID: domain.ConsentUnknown}
	for id, c := range want {
		if got := byID[id].Consent.Email; got != c {
			t.Errorf("profile %s: consent %q, want %q", id, got, c)
		}
	}
	a := byID[ps[0].ID].Attributes
	if a[domain.AttrEmailOpens] != "3" || a[domain.AttrEmailClicks] != "1" || a[domain.AttrLastEmailOpen] == "" {
		t.Errorf("engagement of %s: %v, want 3 opens and 1 click", ps[0].ID, a)
	}
	if a := byID[ps[1].ID].Attributes; a[domain.AttrEmailOpens] != "0" || a[domain.AttrEmailClicks] != "0" {
		t.Errorf("engagement of %s (an order, no email events): %v, want 0 and 0", ps[1].ID, a)
	}

	f.SetConsent(ps[2].ID, klaviyofake.Subscribed)
	f.Engage(ps[1].ID, "Opened Email", 1)
	next, _ := pullAll(t, p, cur)
	if len(next) != 2 {
		t.Errorf("incremental pull brought %d profiles, want the two changed since: %v", len(next), keysOf(next))
	}
	if c := next[ps[2].ID]; c == nil || c.Consent.Email != domain.ConsentGranted {
		t.Errorf("incremental pull: %s, who subscribed since, is %+v", ps[2].ID, c)
	}
	if c := next[ps[1].ID]; c == nil || c.Attributes[domain.AttrEmailOpens] != "1" {
		t.Errorf("incremental pull: %s, who opened an email since, is %+v", ps[1].ID, c)
	}
}

func keysOf(m map[string]*domain.Contact) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func pullAll(t *testing.T, p *klaviyo.Plugin, cursor string) (map[string]*domain.Contact, string) {
	t.Helper()
	out := map[string]*domain.Contact{}
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, Cursor: cursor}, func(_ context.Context, pg adapter.Page) error {
		for _, c := range pg.Changes {
			out[c.Ref.ID] = c.Contact
		}
		cursor = pg.Cursor
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out, cursor
}

// A write-back lands exactly: list members are those pushed in and not
// those pushed out, a hand-added member and a hand-set property stay,
// segment values are custom properties, and "" unsets one.
func TestWriteBackIsExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := klaviyofake.Start(t.Cleanup)
	ps := f.Seed(6)
	p := configured(t, f)
	es, err := p.EnsureTargets(ctx, []adapter.Target{
		{Key: "list:vip", Kind: adapter.TargetList, Name: "segment: vip"},
		{Key: "rfm", Kind: adapter.TargetProperty, Name: "rfm_segment"},
	})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, e := range es {
		targets[e.Key] = e.PlatformID
	}
	vip := targets["list:vip"]
	f.AddToList("segment: vip", ps[5].ID) // by hand, not the connector's
	f.SetProperty(ps[4].ID, "favourite_colour", "green")
	f.SetProperty(ps[3].ID, "rfm_segment", "Stale")
	req := adapter.PushRequest{Targets: targets}
	for i, pr := range refsOf(ps[:4]) {
		it := adapter.PushItem{ID: fmt.Sprint(i), Ref: pr, Properties: map[string]string{"rfm": "Champions"}, Add: []string{"list:vip"}}
		if i == 3 {
			it = adapter.PushItem{ID: "3", Ref: pr, Properties: map[string]string{"rfm": ""}, Remove: []string{"list:vip"}}
		}
		req.Items = append(req.Items, it)
	}
	res, err := p.Push(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != adapter.PushOK {
			t.Fatalf("result %+v", r)
		}
	}
	got := f.Members(vip)
	sort.Strings(got)
	want := []string{ps[0].ID, ps[1].ID, ps[2].ID, ps[5].ID}
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("members of %s: %v, want %v", vip, got, want)
	}
	for i, pr := range ps[:3] {
		if props, _ := f.Properties(pr.ID); props["rfm_segment"] != "Champions" {
			t.Errorf("profile %d properties %v", i, props)
		}
	}
	if props, _ := f.Properties(ps[3].ID); len(props) != 0 {
		t.Errorf("unset property still there: %v", props)
	}
	if props, _ := f.Properties(ps[4].ID); props["favourite_colour"] != "green" || len(props) != 1 {
		t.Errorf("hand-set property of an untouched profile: %v", props)
	}
	again, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "list:vip", Kind: adapter.TargetList, Name: "segment: vip"}})
	if err != nil || again[0].PlatformID != vip || again[0].Created {
		t.Errorf("EnsureTargets again: %+v, %v; want the same list, not created", again, err)
	}
}

// Klaviyo lets lists share a name, so EnsureTargets called twice at once
// (a cycle's and the daemon's) must still make one list: both calls get
// its id. They made two before, and write-back then went to one list
// while the host recorded the other.
func TestConcurrentEnsureTargetsMakeOneList(t *testing.T) {
	t.Parallel()
	f := klaviyofake.Start(t.Cleanup)
	p := configured(t, f)
	target := []adapter.Target{{Key: "list:vip", Kind: adapter.TargetList, Name: "segment: vip"}}
	ids := make([]string, 4)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			es, err := p.EnsureTargets(context.Background(), target)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = es[0].PlatformID
		}()
	}
	wg.Wait()
	if n := f.ListsNamed("segment: vip"); n != 1 || ids[0] == "" || slices.Compact(slices.Clone(ids))[0] != ids[0] || len(slices.Compact(slices.Clone(ids))) != 1 {
		t.Errorf("%d lists named segment: vip; ids %v", n, ids)
	}
}

// Erasure goes through Klaviyo's Data Privacy API: the profile is gone
// from the account, its lists and its events; erasing it again reports it
// gone, which the host counts as confirmed; and the plugin offers erasure
// through the plugin boundary (the supervised process is an Eraser).
func TestErase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := klaviyofake.Start(t.Cleanup)
	ps := f.Seed(2)
	f.AddToList("segment: vip", ps[0].ID, ps[1].ID)
	p := configured(t, f)
	ref := refsOf(ps[:1])[0]
	out, err := p.Erase(ctx, ref)
	if err != nil || out != adapter.ErasureDeleted {
		t.Fatalf("Erase: %q, %v", out, err)
	}
	if _, err := f.Properties(ps[0].ID); err == nil {
		t.Error("the erased profile is still in the account")
	}
	if m := f.Members(f.ListNamed("segment: vip")); len(m) != 1 || m[0] != ps[1].ID {
		t.Errorf("list members after the erasure: %v", m)
	}
	if _, err := p.Erase(ctx, ref); !errors.Is(err, adapter.ErrRecordGone) {
		t.Errorf("erasing again: %v, want ErrRecordGone", err)
	}
	if _, err := p.Erase(ctx, domain.ExternalRef{Platform: klaviyo.Name, ObjectType: domain.ObjectOrder, ID: "1"}); adapter.KindOf(err) != adapter.KindPermanent {
		t.Errorf("erasing an order: %v, want a permanent error", err)
	}
}
