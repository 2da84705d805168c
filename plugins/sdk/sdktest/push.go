package sdktest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// ensure creates the kit's targets and returns key → platform id.
func (e env) ensure(t *testing.T, ctx context.Context) map[string]string {
	t.Helper()
	var want []adapter.Target
	for _, k := range e.desc.Capabilities.Targets {
		switch k {
		case adapter.TargetProperty:
			want = append(want, kitProperty)
		case adapter.TargetList:
			want = append(want, kitList)
		}
	}
	got, err := e.a.EnsureTargets(ctx, want)
	if err != nil {
		t.Fatalf("EnsureTargets: %v", err)
	}
	out := map[string]string{}
	for _, g := range got {
		if g.PlatformID == "" {
			t.Errorf("EnsureTargets: %q has no platform id", g.Key)
		}
		out[g.Key] = g.PlatformID
	}
	for _, w := range want {
		if _, ok := out[w.Key]; !ok {
			t.Fatalf("EnsureTargets did not report target %q", w.Key)
		}
	}
	return out
}

// items builds push items putting refs into the kit's segment.
func (e env) items(refs []domain.ExternalRef, prefix string) []adapter.PushItem {
	out := make([]adapter.PushItem, len(refs))
	for i, r := range refs {
		it := adapter.PushItem{ID: fmt.Sprintf("%s-%d", prefix, i), Ref: r}
		for _, k := range e.desc.Capabilities.Targets {
			switch k {
			case adapter.TargetProperty:
				it.Properties = map[string]string{kitProperty.Key: "alpha"}
			case adapter.TargetList:
				it.Add = []string{kitList.Key}
			}
		}
		out[i] = it
	}
	return out
}

func checkResults(t *testing.T, items []adapter.PushItem, res []adapter.PushResult) map[string]adapter.PushResult {
	t.Helper()
	byID := map[string]adapter.PushResult{}
	for _, r := range res {
		if _, dup := byID[r.ID]; dup {
			t.Errorf("push result for %q reported twice", r.ID)
		}
		byID[r.ID] = r
	}
	for _, it := range items {
		if _, ok := byID[it.ID]; !ok {
			t.Errorf("no push result for item %q", it.ID)
		}
	}
	if len(res) != len(items) {
		t.Errorf("push returned %d results for %d items", len(res), len(items))
	}
	return byID
}

func (e env) needTargets(t *testing.T) {
	if len(e.desc.Capabilities.Targets) == 0 {
		t.Skip("the adapter offers no write-back targets")
	}
}

func (s suite) partialPush(t *testing.T) {
	e := s.setup(t)
	e.needTargets(t)
	if e.f.RejectPush == nil {
		t.Skip("the fake has no push-rejection hook")
	}
	refs := e.seedPushable(t, 3)
	ctx := ctxFor(t)
	targets := e.ensure(t, ctx)
	e.f.RejectPush(refs[1])
	items := e.items(refs, "partial")
	res, err := e.a.Push(ctx, adapter.PushRequest{Items: items, Targets: targets})
	if err != nil {
		t.Fatalf("push with one rejected record failed as a whole: %v", err)
	}
	byID := checkResults(t, items, res)
	for i, it := range items {
		r := byID[it.ID]
		if i == 1 {
			if r.Status == adapter.PushOK || r.Reason == "" {
				t.Errorf("rejected record %s: result %+v, want a failure with a reason", refs[1].ID, r)
			}
			continue
		}
		if r.Status != adapter.PushOK {
			t.Errorf("record %s: result %+v, want ok", refs[i].ID, r)
		}
	}
	if e.f.Membership != nil {
		e.checkMember(t, refs[0], targets)
	}
}

func (e env) checkMember(t *testing.T, ref domain.ExternalRef, targets map[string]string) (map[string]string, []string) {
	t.Helper()
	props, lists, err := e.f.Membership(ref)
	if err != nil {
		t.Fatalf("reading back membership of %s: %v", ref.ID, err)
	}
	if id, ok := targets[kitProperty.Key]; ok && !strings.Contains(props[id], "alpha") {
		t.Errorf("after push, %s property %s = %q, want alpha", ref.ID, id, props[id])
	}
	if id, ok := targets[kitList.Key]; ok && !slices.Contains(lists, id) {
		t.Errorf("after push, %s lists %v lack %s", ref.ID, lists, id)
	}
	return props, lists
}

func (s suite) idempotentPush(t *testing.T) {
	e := s.setup(t)
	e.needTargets(t)
	refs := e.seedPushable(t, 2)
	ctx := ctxFor(t)
	first := e.ensure(t, ctx)
	again, err := e.a.EnsureTargets(ctx, nil)
	if err != nil {
		t.Fatalf("EnsureTargets(none): %v", err)
	}
	if len(again) != 0 {
		t.Errorf("EnsureTargets(none) reported %d targets", len(again))
	}
	second := e.ensure(t, ctx)
	for k, id := range first {
		if second[k] != id {
			t.Errorf("EnsureTargets twice: %q is %q then %q", k, id, second[k])
		}
	}
	items := e.items(refs, "idem")
	var before [][]string
	for round := 1; round <= 2; round++ {
		res, err := e.a.Push(ctx, adapter.PushRequest{Items: items, Targets: second})
		if err != nil {
			t.Fatalf("push round %d: %v", round, err)
		}
		for _, r := range checkResults(t, items, res) {
			if r.Status != adapter.PushOK {
				t.Errorf("push round %d: %+v, want ok", round, r)
			}
		}
		if e.f.Membership == nil {
			continue
		}
		var state []string
		for _, r := range refs {
			props, lists := e.checkMember(t, r, second)
			state = append(state, fmt.Sprint(props, lists))
		}
		if round == 1 {
			before = [][]string{state}
		} else if !slices.Equal(before[0], state) {
			t.Errorf("the same push twice changed platform state:\n first  %v\n second %v", before[0], state)
		}
	}
}

func (s suite) webhookNegatives(t *testing.T) {
	e := s.setup(t)
	if !e.desc.Capabilities.Webhooks {
		t.Skip("the adapter has no webhooks")
	}
	if e.f.Webhook == nil {
		t.Skip("the fake has no webhook hook")
	}
	refs := e.seed(t, 1)
	ctx := ctxFor(t)
	good := e.f.Webhook(refs[0])
	res, err := e.a.VerifyWebhook(ctx, good)
	if err != nil {
		t.Fatalf("VerifyWebhook of a correctly signed webhook: %v", err)
	}
	if len(res.Events) == 0 {
		t.Errorf("VerifyWebhook of a correctly signed webhook returned no events")
	}

	wantBad := func(name string, req adapter.WebhookRequest, needSentinel bool) {
		t.Helper()
		_, err := e.a.VerifyWebhook(ctx, req)
		if err == nil {
			t.Errorf("%s: verified", name)
			return
		}
		if k := adapter.KindOf(err); k != adapter.KindAuth {
			t.Errorf("%s: kind %v (%v), want auth", name, k, err)
		}
		if needSentinel && !errors.Is(err, adapter.ErrBadSignature) {
			t.Errorf("%s: %v does not wrap ErrBadSignature", name, err)
		}
	}
	if !e.f.UnsignedBody {
		tampered := good
		tampered.Body = append(append([]byte{}, good.Body...), ' ')
		if len(good.Body) > 0 {
			b := append([]byte{}, good.Body...)
			b[len(b)/2] ^= 0x01
			tampered.Body = b
		}
		wantBad("tampered body", tampered, true)
	}
	if e.f.ForgedWebhook != nil {
		wantBad("forged webhook", e.f.ForgedWebhook(refs[0]), false)
	}

	unsigned := good
	unsigned.Headers = map[string][]string{}
	for k, v := range good.Headers {
		lk := strings.ToLower(k)
		if strings.Contains(lk, "signature") || strings.Contains(lk, "hmac") || strings.Contains(lk, "authorization") {
			continue
		}
		unsigned.Headers[k] = v
	}
	if len(unsigned.Headers) < len(good.Headers) {
		wantBad("missing signature", unsigned, false)
	}
}
