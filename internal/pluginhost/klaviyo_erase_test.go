package pluginhost_test

import (
	"context"
	"errors"
	"testing"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/klaviyo/klaviyofake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// The Klaviyo plugin, run as its own process, erases a profile through
// the host (protocol 1.2): the profile is gone from the account, and a
// second erasure reports it gone.
func TestKlaviyoEraseThroughTheHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Klaviyo plugin: skipped in -short mode")
	}
	t.Parallel()
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/klaviyo/cmd/connector-klaviyo")
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	f := klaviyofake.Start(t.Cleanup)
	ps := f.Seed(2)
	p := open(t, pluginhost.Spec{Name: "klaviyo", Path: bin, SHA256: sum}, pluginhost.Options{})
	if err := p.Configure(ctx, adapter.Config{"api_key": f.APIKey, "base_url": f.URL}); err != nil {
		t.Fatal(err)
	}
	var er adapter.Eraser = p
	ref := domain.ExternalRef{Platform: "klaviyo", ObjectType: domain.ObjectContact, ID: ps[0].ID}
	if out, err := er.Erase(ctx, ref); err != nil || out != adapter.ErasureDeleted {
		t.Fatalf("Erase = %q, %v; want deleted", out, err)
	}
	if _, err := f.Properties(ps[0].ID); err == nil {
		t.Fatal("Klaviyo still has the erased profile")
	}
	if _, err := f.Properties(ps[1].ID); err != nil {
		t.Fatalf("the other profile: %v", err)
	}
	if _, err := er.Erase(ctx, ref); !errors.Is(err, adapter.ErrRecordGone) {
		t.Fatalf("erasing the profile again: %v; want ErrRecordGone", err)
	}
}
