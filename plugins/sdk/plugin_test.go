package sdk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// bare implements the four required methods and nothing else, not even
// by embedding Unimplemented.
type bare struct{}

func (bare) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{Name: "bare", Version: "1"}, nil
}
func (bare) Configure(context.Context, adapter.Config) error { return nil }
func (bare) Pull(context.Context, adapter.PullRequest, adapter.PageSink) error {
	return nil
}
func (bare) Close(context.Context) error { return nil }

// writer adds write-back to bare.
type writer struct{ bare }

func (writer) EnsureTargets(_ context.Context, ts []adapter.Target) ([]adapter.EnsuredTarget, error) {
	return []adapter.EnsuredTarget{{Key: ts[0].Key, PlatformID: "p1", Created: true}}, nil
}
func (writer) Push(_ context.Context, r adapter.PushRequest) ([]adapter.PushResult, error) {
	return []adapter.PushResult{{ID: r.Items[0].ID, Status: adapter.PushOK}}, nil
}

// A plugin answers the methods it leaves out with a permanent
// ErrUnsupported on the host's side of the protocol, and the ones it has
// are called.
func TestOptInMethodsCrossTheProtocol(t *testing.T) {
	ctx := context.Background()
	a := sdktest.OverGRPC(t, sdk.Adapt(bare{}))
	if ds, err := a.ValidateConfig(ctx, adapter.Config{"x": 1}); err != nil || len(ds) != 0 {
		t.Errorf("ValidateConfig of a plugin without it = %v, %v; want no diagnostics", ds, err)
	}
	checks := map[string]error{}
	_, checks["Fetch"] = a.Fetch(ctx, adapter.FetchRequest{Object: "contact", IDs: []string{"1"}})
	_, checks["EnsureTargets"] = a.EnsureTargets(ctx, []adapter.Target{{Key: "k"}})
	_, checks["Push"] = a.Push(ctx, adapter.PushRequest{Items: []adapter.PushItem{{ID: "i"}}})
	_, checks["VerifyWebhook"] = a.VerifyWebhook(ctx, adapter.WebhookRequest{})
	for op, err := range checks {
		if !errors.Is(err, adapter.ErrUnsupported) || adapter.KindOf(err) != adapter.KindPermanent {
			t.Errorf("%s of a plugin without it: %v (kind %v), want a permanent ErrUnsupported", op, err, adapter.KindOf(err))
		}
	}
	w := sdktest.OverGRPC(t, sdk.Adapt(writer{}))
	es, err := w.EnsureTargets(ctx, []adapter.Target{{Key: "list:a", Kind: adapter.TargetList}})
	if err != nil || len(es) != 1 || es[0].PlatformID != "p1" {
		t.Errorf("EnsureTargets of a Writer = %+v, %v", es, err)
	}
	rs, err := w.Push(ctx, adapter.PushRequest{Items: []adapter.PushItem{{ID: "i"}}})
	if err != nil || len(rs) != 1 || rs[0].Status != adapter.PushOK {
		t.Errorf("Push of a Writer = %+v, %v", rs, err)
	}
	if _, err := w.Fetch(ctx, adapter.FetchRequest{}); !errors.Is(err, adapter.ErrUnsupported) {
		t.Errorf("Fetch of a Writer without Fetcher: %v", err)
	}
}

// An adapter.Adapter is served as it is.
func TestAdaptKeepsAFullAdapter(t *testing.T) {
	var full adapter.Adapter = sdk.Adapt(writer{})
	if again := sdk.Adapt(full); again != full {
		t.Errorf("Adapt of a full adapter wrapped it again")
	}
}
