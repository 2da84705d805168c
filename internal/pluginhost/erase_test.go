package pluginhost_test

import (
	"context"
	"errors"
	"testing"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/mailchimp/mailchimpfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// TestPluginEraseThroughTheHost: the Mailchimp plugin, a real process
// speaking protocol 1.2 under the host's supervision, erases an audience
// member with Mailchimp's permanent delete; erasing them again is "gone".
// Plugins that cannot erase, one of 1.2 without Erase and one built
// against 1.0, still work and answer "unsupported", never a retryable
// error the host would keep retrying.
func TestPluginEraseThroughTheHost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Mailchimp plugin: skipped in -short mode")
	}
	t.Parallel()
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/mailchimp/cmd/connector-mailchimp")
	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	f := mailchimpfake.Start(t.Cleanup)
	members := f.Seed(3)
	p := open(t, pluginhost.Spec{Name: "mailchimp", Path: bin, SHA256: sum}, pluginhost.Options{})
	if err := p.Configure(ctx, adapter.Config{"api_key": f.APIKey, "list_id": f.ListID, "base_url": f.URL}); err != nil {
		t.Fatal(err)
	}
	var er adapter.Eraser = p
	ref := domain.ExternalRef{Platform: "mailchimp", Account: f.ListID, ObjectType: domain.ObjectContact, ID: members[1].ID}
	out, err := er.Erase(ctx, ref)
	if err != nil || out != adapter.ErasureDeleted {
		t.Fatalf("Erase = %q, %v; want deleted", out, err)
	}
	if !f.Forgotten(members[1].ID) {
		t.Fatal("Mailchimp did not delete the member permanently")
	}
	got, err := p.Fetch(ctx, adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{members[1].ID, members[0].ID}})
	if err != nil || len(got) != 2 || got[0].Kind != adapter.ChangeDelete || got[1].Kind != adapter.ChangeUpsert {
		t.Fatalf("after the erasure Fetch gives %+v (%v); want the erased member deleted and the other kept", got, err)
	}
	if _, err := er.Erase(ctx, ref); !errors.Is(err, adapter.ErrRecordGone) {
		t.Fatalf("erasing the member again: %v; want ErrRecordGone", err)
	}

	for name, args := range map[string][]string{"1.2 without Erase": nil, "1.0": {"--protocol10"}} {
		s := spec(t, "csv")
		s.Args = args
		old, _ := configured(t, s, pluginhost.Options{})
		_, err := old.Erase(ctx, domain.ExternalRef{Platform: "csv", ObjectType: domain.ObjectContact, ID: "1"})
		if !errors.Is(err, adapter.ErrUnsupported) || adapter.KindOf(err) != adapter.KindPermanent {
			t.Errorf("%s plugin: Erase = %v (kind %v); want a permanent ErrUnsupported", name, err, adapter.KindOf(err))
		}
	}
}
