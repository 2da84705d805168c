package mailchimp_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/mailchimp"
	"github.com/segconn/connector/plugins/mailchimp/mailchimpfake"
	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

func refsOf(list string, ms []*mailchimpfake.Member) []domain.ExternalRef {
	out := make([]domain.ExternalRef, len(ms))
	for i, m := range ms {
		out[i] = domain.ExternalRef{Platform: mailchimp.Name, Account: list, ObjectType: domain.ObjectContact, ID: m.ID}
	}
	return out
}

const hookSecret = "s3cret-in-the-url"

func config(f *mailchimpfake.Fake) adapter.Config {
	return adapter.Config{"api_key": f.APIKey, "list_id": f.ListID, "base_url": f.URL, "webhook_secret": hookSecret, "batch_poll": "5ms"}
}

// hook is an audience webhook of typ about ref, sent to the callback URL
// with secret.
func hook(t testing.TB, f *mailchimpfake.Fake, typ, secret string, ref domain.ExternalRef) adapter.WebhookRequest {
	form, err := f.WebhookForm(typ, ref.ID)
	if err != nil {
		t.Fatal(err)
	}
	return adapter.WebhookRequest{Method: "POST", URL: "https://hooks.example.com/webhooks/mailchimp?secret=" + url.QueryEscape(secret),
		Headers: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "User-Agent": {"MailChimp"}},
		Body:    []byte(form.Encode()), ReceivedAt: time.Now()}
}

func harness() sdktest.Harness {
	return sdktest.Harness{
		Name: "mailchimp",
		New:  func(testing.TB) adapter.Adapter { return sdk.Adapt(mailchimp.New()) },
		Start: func(t testing.TB) *sdktest.Fake {
			f := mailchimpfake.Start(t.Cleanup)
			return &sdktest.Fake{
				Config:        config(f),
				Seed:          func(n int) ([]domain.ExternalRef, error) { return refsOf(f.ListID, f.Seed(n)), nil },
				PageSize:      10,
				MaxPageSize:   1000,
				MissingID:     mailchimpfake.SubscriberHash("nobody@example.com"),
				RateLimit:     f.RateLimit,
				RejectPush:    func(r domain.ExternalRef) { f.RejectTags(r.ID) },
				Webhook:       func(r domain.ExternalRef) adapter.WebhookRequest { return hook(t, f, "profile", hookSecret, r) },
				UnsignedBody:  true,
				ForgedWebhook: func(r domain.ExternalRef) adapter.WebhookRequest { return hook(t, f, "profile", "guessed", r) },
				Membership: func(r domain.ExternalRef) (map[string]string, []string, error) {
					tags, err := f.ActiveTags(r.ID)
					if err != nil {
						return nil, nil, err
					}
					merges, err := f.MergeValues(r.ID)
					return merges, tags, err
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
	cfg := config(f)
	cfg["batch_threshold"] = 1000 // direct calls, not a batch
	if err := p.Configure(ctx, cfg); err != nil {
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

// Audience webhooks become events about the member by subscriber hash:
// unsubscribe and cleaned announce a change of consent (the host fetches
// the member), an unsubscribe with action delete a deletion, and a webhook
// without the URL's secret is refused.
func TestAudienceWebhooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := mailchimpfake.Start(t.Cleanup)
	m := f.Seed(1)[0]
	ref := refsOf(f.ListID, []*mailchimpfake.Member{m})[0]
	p := mailchimp.New()
	if err := p.Configure(ctx, config(f)); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"subscribe", "unsubscribe", "profile", "cleaned"} {
		res, err := p.VerifyWebhook(ctx, hook(t, f, typ, hookSecret, ref))
		if err != nil || len(res.Events) != 1 || res.Events[0].Ref.ID != m.ID || res.Events[0].Kind != adapter.ChangeUpsert {
			t.Errorf("%s webhook: %+v, %v; want one upsert event for %s", typ, res, err, m.ID)
		}
	}
	del := hook(t, f, "unsubscribe", hookSecret, ref)
	form, _ := url.ParseQuery(string(del.Body))
	form.Set("data[action]", "delete")
	del.Body = []byte(form.Encode())
	if res, err := p.VerifyWebhook(ctx, del); err != nil || len(res.Events) != 1 || res.Events[0].Kind != adapter.ChangeDelete {
		t.Errorf("unsubscribe with action delete: %+v, %v; want a delete", res, err)
	}
	up := hook(t, f, "profile", hookSecret, ref)
	up.Body = []byte(url.Values{"type": {"upemail"}, "fired_at": {"2025-01-01 00:00:09"}, "data[list_id]": {f.ListID},
		"data[new_id]": {"51aa6b2b9b"}, "data[new_email]": {"New@Example.com"}, "data[old_email]": {m.EmailAddress}}.Encode())
	if res, err := p.VerifyWebhook(ctx, up); err != nil || len(res.Events) != 1 || res.Events[0].Kind != adapter.ChangeMerge ||
		res.Events[0].Ref.ID != m.ID || res.Events[0].MergedInto.ID != mailchimp.SubscriberHash("new@example.com") {
		t.Errorf("upemail: %+v, %v; want %s merged into the new address's hash", res, err, m.ID)
	}
	_, err := p.VerifyWebhook(ctx, hook(t, f, "unsubscribe", "", ref))
	if !errors.Is(err, adapter.ErrBadSignature) || adapter.KindOf(err) != adapter.KindAuth {
		t.Errorf("webhook without the secret: %v, want an auth error", err)
	}
	check := adapter.WebhookRequest{Method: "GET", URL: "https://hooks.example.com/webhooks/mailchimp?secret=" + hookSecret}
	if res, err := p.VerifyWebhook(ctx, check); err != nil || len(res.Events) != 0 {
		t.Errorf("Mailchimp's GET check of the callback URL: %+v, %v; want 200 and no events", res, err)
	}
}

// A write-back of more calls than batch_threshold goes as one batch
// operation: merge fields and tags of 300 members (600 operations) in one
// POST /batches, polled until finished, each item given the outcome of
// its own operations (a refused member fails alone); values land exactly
// and a hand-set merge field of another member stays.
func TestLargeWriteBackIsOneBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := mailchimpfake.Start(t.Cleanup)
	members := f.Seed(301)
	p := mailchimp.New()
	if err := p.Configure(ctx, config(f)); err != nil {
		t.Fatal(err)
	}
	es, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "list:vip", Kind: adapter.TargetList, Name: "segment: vip"},
		{Key: "rfm", Kind: adapter.TargetProperty, Name: "RFM segment"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, e := range es {
		targets[e.Key] = e.PlatformID
	}
	if !es[1].Created || targets["rfm"] == "" {
		t.Fatalf("merge field target: %+v", es[1])
	}
	f.RejectTags(members[5].ID)
	req := adapter.PushRequest{Targets: targets}
	for i, r := range refsOf(f.ListID, members[:300]) {
		req.Items = append(req.Items, adapter.PushItem{ID: fmt.Sprint(i), Ref: r, Add: []string{"list:vip"}, Properties: map[string]string{"rfm": "Champions"}})
	}
	before := f.Stats().Requests
	res, err := p.Push(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if (r.Status == adapter.PushOK) != (i != 5) {
			t.Errorf("item %d: %+v", i, r)
		}
	}
	if res[5].Status != adapter.PushPermanent {
		t.Errorf("the refused member: %+v, want a permanent failure", res[5])
	}
	if f.Batches() != 1 {
		t.Errorf("%d batches, want 1", f.Batches())
	}
	// POST /batches, two polls (pending, started, finished) and the results download.
	if calls := f.Stats().Requests - before; calls > 5 {
		t.Errorf("the batch write-back took %d requests", calls)
	}
	tags, _ := f.ActiveTags(members[299].ID)
	merges, _ := f.MergeValues(members[299].ID)
	if len(tags) != 1 || tags[0] != "segment: vip" || merges[targets["rfm"]] != "Champions" || merges["FNAME"] != "Member" {
		t.Errorf("member 299 after the batch: tags %v, merge fields %v", tags, merges)
	}
	if merges, _ := f.MergeValues(members[300].ID); merges[targets["rfm"]] != "" {
		t.Errorf("a member not pushed got %v", merges)
	}
	again, err := p.EnsureTargets(ctx, []adapter.Target{{Key: "rfm", Kind: adapter.TargetProperty, Name: "RFM segment"}})
	if err != nil || again[0].Created || again[0].PlatformID != targets["rfm"] {
		t.Errorf("EnsureTargets again: %+v, %v; want the same merge field", again, err)
	}
}
