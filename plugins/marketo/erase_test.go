package marketo_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// The plugin, run as its own process and reached over protocol 1.2,
// erases a lead: Delete Leads removes it from the instance and from its
// static list, the other leads stay, a fetch then reports it deleted, a
// second erasure reports it gone, and a ref that is no lead id is refused
// as unsupported.
func TestEraseThroughThePluginProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin: skipped in -short mode")
	}
	t.Parallel()
	ctx := context.Background()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/marketo/cmd/connector-marketo")
	f := marketofake.Start(t.Cleanup)
	ls := f.Seed(3)
	refs := refsOf(ls)
	a := sdktest.StartPlugin(t, bin)
	if err := a.Configure(ctx, config(f)); err != nil {
		t.Fatal(err)
	}
	es, err := a.EnsureTargets(ctx, []adapter.Target{{Key: "list:vip", Kind: adapter.TargetList, Name: "segment: vip"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{"list:vip": es[0].PlatformID}
	list, _ := strconv.Atoi(es[0].PlatformID)
	res, err := a.Push(ctx, adapter.PushRequest{Targets: targets, Items: []adapter.PushItem{
		{ID: "0", Ref: refs[0], Add: []string{"list:vip"}}, {ID: "1", Ref: refs[1], Add: []string{"list:vip"}}}})
	if err != nil || res[0].Status != adapter.PushOK || res[1].Status != adapter.PushOK {
		t.Fatalf("push: %v %+v", err, res)
	}

	er, ok := a.(adapter.Eraser)
	if !ok {
		t.Fatalf("the plugin client %T is no adapter.Eraser", a)
	}
	if out, err := er.Erase(ctx, refs[0]); err != nil || out != adapter.ErasureDeleted {
		t.Fatalf("Erase = %q, %v; want deleted", out, err)
	}
	if _, ok := f.Lead(ls[0].ID); ok {
		t.Fatalf("Marketo still has the erased lead %d", ls[0].ID)
	}
	if got := f.ByEmail(ls[0].Email); len(got) != 0 {
		t.Fatalf("Marketo still has a lead with the erased email: %+v", got)
	}
	if got := f.Members(list); !slices.Equal(got, []int{ls[1].ID}) {
		t.Errorf("static list members %v after the erasure, want [%d]", got, ls[1].ID)
	}
	for _, l := range ls[1:] {
		if _, ok := f.Lead(l.ID); !ok {
			t.Errorf("lead %d was not erased but is gone", l.ID)
		}
	}
	cs, err := a.Fetch(ctx, adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{refs[0].ID}})
	if err != nil || len(cs) != 1 || cs[0].Kind != adapter.ChangeDelete {
		t.Errorf("fetching the erased lead: %v %+v; want one delete", err, cs)
	}
	if _, err := er.Erase(ctx, refs[0]); !errors.Is(err, adapter.ErrRecordGone) {
		t.Errorf("erasing the lead again: %v; want ErrRecordGone", err)
	}
	bad := domain.ExternalRef{Platform: "marketo", ObjectType: domain.ObjectContact, ID: "ada@example.com"}
	if _, err := er.Erase(ctx, bad); !errors.Is(err, adapter.ErrUnsupported) || adapter.KindOf(err) != adapter.KindPermanent {
		t.Errorf("erasing %q: %v; want a permanent unsupported error", bad.ID, err)
	}
	if got := f.Stats().Records["POST /rest/v1/leads/delete.json"]; got != 2 {
		t.Errorf("%d leads sent to Delete Leads, want 2 (one erasure, one repeat)", got)
	}
}
