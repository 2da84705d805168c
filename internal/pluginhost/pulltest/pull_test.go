// Package pulltest checks the daemon's view of a plugin crash: a real
// sync (pipeline → pluginhost → plugin process → SQLite store) whose plugin
// is killed twice in the middle of a pull ends with exactly the store an
// undisturbed in-process sync produces.
package pulltest

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

var fixed = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "connector.db"), store.Options{Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatalf("opening SQLite store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// snapshot is the store's content keyed by each profile's sorted refs,
// without store-assigned ids.
func snapshot(t *testing.T, st store.Store) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := st.EachProfile(context.Background(), func(po store.ProfileOrders) error {
		p := po.Profile
		var keys []string
		for _, r := range p.Refs {
			keys = append(keys, r.Key())
		}
		slices.Sort(keys)
		p.ID = ""
		for i := range po.Orders {
			po.Orders[i].UpdatedAt = po.Orders[i].UpdatedAt.UTC()
		}
		b, err := json.Marshal(struct {
			P domain.Profile
			O []domain.Order
		}{p, po.Orders})
		if err != nil {
			return err
		}
		k, _ := json.Marshal(keys)
		out[string(k)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("reading profiles: %v", err)
	}
	return out
}

func syncWith(t *testing.T, a adapter.Adapter, cfg adapter.Config, hooks pipeline.Hooks) (store.Store, pipeline.SyncStats) {
	t.Helper()
	ctx := context.Background()
	if err := a.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	desc, err := a.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	p := pipeline.New(pipeline.Options{Store: st, Platforms: []*pipeline.Platform{{Name: csvfolder.Name, Adapter: a, Desc: desc}},
		Now: func() time.Time { return fixed }, Hooks: hooks})
	stats, err := p.Sync(ctx, csvfolder.Name, false)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return st, stats
}

func TestSyncSurvivesPluginKilledMidPull(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a plugin process twice mid-pull; internal/pluginhost covers one kill in -short")
	}
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/examples/csvfolder/cmd/connector-csvfolder")
	f := csvfake.New(t)
	if _, err := f.SeedCustomers(2500); err != nil {
		t.Fatal(err)
	}
	if _, err := f.SeedOrders(1500); err != nil {
		t.Fatal(err)
	}

	want, wantStats := syncWith(t, csvfolder.New(), f.Config(), pipeline.Hooks{})

	sum, err := pluginhost.FileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	plug, err := pluginhost.Open(context.Background(), pluginhost.Spec{Name: "spreadsheet", Path: bin, SHA256: sum}, pluginhost.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plug.Close(context.Background()) })
	// The default page is 500 rows: kill the plugin after the first
	// contact page is stored and after the first order page. (A kill
	// after the plugin already sent the rest of a pull needs no restart:
	// gRPC may have buffered it all, so at least one restart is asserted.)
	pages := 0
	kill := func(platform, object string, records int) {
		pages++
		if pages == 1 || pages == 6 {
			if err := syscall.Kill(plug.PID(), syscall.SIGKILL); err != nil {
				t.Errorf("killing the plugin: %v", err)
			}
		}
	}
	got, gotStats := syncWith(t, plug, f.Config(), pipeline.Hooks{OnPulled: kill})

	if plug.Restarts() < 1 {
		t.Fatalf("plugin restarts = %d, want at least 1", plug.Restarts())
	}
	t.Logf("plugin restarted %d times during the sync", plug.Restarts())
	if !maps(wantStats.Records, gotStats.Records) || wantStats.Pages != gotStats.Pages {
		t.Errorf("sync stats: in-process %+v, plugin %+v", wantStats, gotStats)
	}
	ws, gs := snapshot(t, want), snapshot(t, got)
	if len(ws) == 0 || len(ws) != len(gs) {
		t.Fatalf("profiles: in-process %d, plugin %d", len(ws), len(gs))
	}
	for k, v := range ws {
		if gs[k] != v {
			t.Fatalf("profile %s differs:\n in-process %s\n plugin     %s", k, v, gs[k])
		}
	}
	for _, obj := range []string{domain.ObjectContact, domain.ObjectOrder} {
		wc, _ := want.Cursor(context.Background(), csvfolder.Name, "", obj)
		gc, _ := got.Cursor(context.Background(), csvfolder.Name, "", obj)
		if wc == "" || wc != gc {
			t.Errorf("%s cursor: in-process %q, plugin %q", obj, wc, gc)
		}
	}
}

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
