package pardot_test

import (
	"context"
	"errors"
	"testing"

	"github.com/segconn/connector/plugins/pardot/pardotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// The plugin, run as its own process and reached over protocol 1.2,
// erases a prospect: the v5 delete moves it to the recycle bin, so the
// business unit no longer serves it (a fetch reports it deleted, a pull
// leaves it out) while the other prospects stay; a second erasure reports
// it gone, and a ref that is no prospect id is refused as unsupported.
func TestEraseThroughThePluginProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin program")
	}
	t.Parallel()
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/pardot/cmd/connector-pardot")
	f := pardotfake.Start(t.Cleanup)
	ps := f.Seed(3)
	refs := refsOf(ps)
	a := sdktest.StartPlugin(t, bin)
	if err := a.Configure(ctx, config(f)); err != nil {
		t.Fatal(err)
	}
	er, ok := a.(adapter.Eraser)
	if !ok {
		t.Fatalf("the plugin client %T is no adapter.Eraser", a)
	}
	if out, err := er.Erase(ctx, refs[0]); err != nil || out != adapter.ErasureDeleted {
		t.Fatalf("Erase = %q, %v; want deleted", out, err)
	}
	if _, ok := f.Prospect(ps[0].ID); ok || !f.InRecycleBin(ps[0].ID) {
		t.Fatalf("prospect %d: still served %v, in the recycle bin %v; want only the recycle bin", ps[0].ID, ok, f.InRecycleBin(ps[0].ID))
	}
	if got := f.ByEmail(ps[0].Email); len(got) != 0 {
		t.Fatalf("the business unit still serves a prospect with the erased email: %+v", got)
	}
	for _, pr := range ps[1:] {
		if _, ok := f.Prospect(pr.ID); !ok {
			t.Errorf("prospect %d was not erased but is gone", pr.ID)
		}
	}
	cs, err := a.Fetch(ctx, adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{refs[0].ID}})
	if err != nil || len(cs) != 1 || cs[0].Kind != adapter.ChangeDelete {
		t.Errorf("fetching the erased prospect: %v %+v; want one delete", err, cs)
	}
	pulled := map[string]bool{}
	err = a.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact}, func(_ context.Context, pg adapter.Page) error {
		for _, c := range pg.Changes {
			pulled[c.Ref.ID] = true
		}
		return nil
	})
	if err != nil || pulled[refs[0].ID] || !pulled[refs[1].ID] || !pulled[refs[2].ID] {
		t.Errorf("pull after the erasure: %v, ids %v; want %s and %s only", err, pulled, refs[1].ID, refs[2].ID)
	}
	if _, err := er.Erase(ctx, refs[0]); !errors.Is(err, adapter.ErrRecordGone) {
		t.Errorf("erasing the prospect again: %v; want ErrRecordGone", err)
	}
	bad := domain.ExternalRef{Platform: "pardot", ObjectType: domain.ObjectContact, ID: "ada@example.com"}
	if _, err := er.Erase(ctx, bad); !errors.Is(err, adapter.ErrUnsupported) || adapter.KindOf(err) != adapter.KindPermanent {
		t.Errorf("erasing %q: %v; want a permanent unsupported error", bad.ID, err)
	}
	if calls, _ := f.Calls(); calls["DELETE /prospects"] != 2 {
		t.Errorf("%d prospect deletes, want 2 (one erasure, one repeat); calls %v", calls["DELETE /prospects"], calls)
	}
}
