// Command misbehave is a test plugin: the csvfolder adapter plus ways to
// misbehave on request, for the host's tests.
//
//	--protocol=N      serve protocol version N only (negotiation tests)
//	--protocol10      serve as a plugin built against protocol 1.0 does
//	--hints           give the 1.1 hints: write pacing, a daily quota of
//	                  1000 that each pushed item spends, and one HTTP
//	                  report per pushed item
//	Fetch id "hang"   never answer
//	Fetch id "crash"  exit the process mid-call
//	Fetch id "env"    return the process environment as attributes
//	Pull cursor "hang" never send a page
//	Describe          logs a warning through sdk.Logger
//
// With MISBEHAVE_MARKER set it writes that file when it starts.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/wire"
)

type misbehave struct {
	*csvfolder.Adapter
	log *slog.Logger
}

func (m *misbehave) Describe(ctx context.Context) (adapter.Descriptor, error) {
	m.log.Warn("misbehave describing", "answer", 42)
	return m.Adapter.Describe(ctx)
}

func (m *misbehave) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	if len(req.IDs) == 1 {
		switch req.IDs[0] {
		case "hang":
			select {}
		case "crash":
			os.Exit(3)
		case "env":
			attrs := map[string]string{}
			for _, kv := range os.Environ() {
				k, v, _ := strings.Cut(kv, "=")
				attrs[k] = v
			}
			ref := domain.ExternalRef{Platform: "misbehave", ObjectType: domain.ObjectContact, ID: "env"}
			return []adapter.Change{{Kind: adapter.ChangeUpsert, Ref: ref, Contact: &domain.Contact{Ref: ref, Attributes: attrs}}}, nil
		}
	}
	return m.Adapter.Fetch(ctx, req)
}

func (m *misbehave) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	if req.Cursor == "hang" {
		select {}
	}
	return m.Adapter.Pull(ctx, req, sink)
}

// hinted adds the hints of protocol 1.1 to misbehave.
type hinted struct {
	*misbehave
	obs       adapter.HTTPObserver
	remaining atomic.Int64
}

func (h *hinted) WritePacing() adapter.WritePacing {
	return adapter.WritePacing{PropertyEvery: 750 * time.Millisecond, MembershipEvery: 5 * time.Second, MembershipCallEvery: 200 * time.Millisecond}
}

func (h *hinted) DailyQuota() adapter.Quota {
	return adapter.Quota{Limit: 1000, Remaining: int(h.remaining.Load())}
}

func (h *hinted) ObserveHTTP(o adapter.HTTPObserver) { h.obs = o }

func (h *hinted) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	res, err := h.misbehave.Push(ctx, req)
	for range req.Items {
		h.remaining.Add(-1)
		h.obs.RateWait(10 * time.Millisecond)
		h.obs.HTTPRequest("PUT", 200, 3*time.Millisecond)
	}
	return res, err
}

func main() {
	if path := os.Getenv("MISBEHAVE_MARKER"); path != "" {
		_ = os.WriteFile(path, []byte("started\n"), 0o644)
	}
	a := &misbehave{Adapter: csvfolder.New(), log: sdk.Logger()}
	for _, arg := range os.Args[1:] {
		v, ok := strings.CutPrefix(arg, "--protocol=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad --protocol:", err)
			os.Exit(2)
		}
		if os.Getenv(wire.MagicCookieKey) == "" {
			_ = json.NewEncoder(os.Stdout).Encode(wire.Description{ProtocolVersions: []int{n}})
			return
		}
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  wire.Handshake(),
			VersionedPlugins: map[int]plugin.PluginSet{n: {wire.PluginName: &wire.GRPCPlugin{Impl: a}}},
		})
		return
	}
	for _, arg := range os.Args[1:] {
		switch arg {
		case "--protocol10":
			if os.Getenv(wire.MagicCookieKey) == "" { // --describe as a 1.0 binary answers it
				d, _ := a.Describe(context.Background())
				_ = json.NewEncoder(os.Stdout).Encode(wire.Description{ProtocolVersions: []int{1}, Adapter: d})
				return
			}
			plugin.Serve(&plugin.ServeConfig{
				HandshakeConfig:  wire.Handshake(),
				VersionedPlugins: map[int]plugin.PluginSet{1: {wire.PluginName: &wire.GRPCPlugin{Impl: a, Service: wire.NewServer10}}},
				GRPCServer:       plugin.DefaultGRPCServer,
			})
			return
		case "--hints":
			h := &hinted{misbehave: a}
			h.remaining.Store(1000)
			sdk.Serve(h)
			return
		}
	}
	sdk.Serve(a)
}
