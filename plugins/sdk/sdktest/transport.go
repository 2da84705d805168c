package sdktest

import (
	"context"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/wire"
)

// GRPC returns h with every adapter served through the real protocol in
// memory: go-plugin's TestPluginGRPCConn connects the SDK's gRPC server
// (wrapping the adapter h.New returns) to the SDK's gRPC client, so every
// call crosses protobuf, status mapping and streams as it would between
// processes.
func GRPC(h Harness) Harness {
	inner := h.New
	h.Name += "/grpc"
	h.New = func(t testing.TB) adapter.Adapter {
		return OverGRPC(t, inner(t))
	}
	return h
}

// OverGRPC serves a in memory through the plugin protocol and returns the
// host-side client. Both ends are closed at t's cleanup.
func OverGRPC(t testing.TB, a adapter.Adapter) adapter.Adapter {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		wire.PluginName: &wire.GRPCPlugin{Impl: a},
	})
	// Closing the client asks the server to shut down (go-plugin's
	// controller service); stopping it here as well would race with that.
	t.Cleanup(func() { _ = client.Close() })
	raw, err := client.Dispense(wire.PluginName)
	if err != nil {
		t.Fatalf("dispensing adapter over gRPC: %v", err)
	}
	return raw.(adapter.Adapter)
}

// Subprocess returns h with every adapter a real plugin process: the
// executable at path, started with args through go-plugin (gRPC,
// AutoMTLS) and killed at t's cleanup. The fake must be reachable from
// another process (a loopback server or a folder), which the fakes of
// this repository are.
func Subprocess(h Harness, path string, args ...string) Harness {
	h.Name += "/subprocess"
	h.New = func(t testing.TB) adapter.Adapter {
		return StartPlugin(t, path, args...)
	}
	return h
}

// StartPlugin launches the plugin at path and returns its adapter. The
// process is killed at t's cleanup. Plugin errors go to stderr.
func StartPlugin(t testing.TB, path string, args ...string) adapter.Adapter {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + os.TempDir()}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  wire.Handshake(),
		VersionedPlugins: wire.VersionedPlugins(nil, wire.SupportedVersions()...),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     30 * time.Second,
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Error}),
		Stderr:           io.Discard,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("starting plugin %s: %v", path, err)
	}
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		t.Fatalf("dispensing adapter from %s: %v", path, err)
	}
	return raw.(adapter.Adapter)
}

// Build compiles the main package pkg (an import path or directory) into
// a temporary directory and returns the executable's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	out := t.TempDir() + "/plugin.bin"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, b)
	}
	return out
}
