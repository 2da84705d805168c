package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/wire"
)

// instance is one running plugin process.
type instance struct {
	client  *plugin.Client
	a       adapter.Adapter
	pid     int
	version int
	// watchCtx lives as long as the process; stopWatch ends it, and with
	// it the stream of HTTP reports. watching is guarded by Plugin.mu.
	watchCtx  context.Context
	stopWatch context.CancelFunc
	watching  bool
}

func (in *instance) exited() bool { return in.client.Exited() }

// kill stops the process at once (SIGKILL), then lets go-plugin reap it.
// A hung plugin would otherwise hold go-plugin's graceful shutdown for
// seconds.
func (in *instance) kill() {
	in.stopWatch()
	if in.pid > 0 && !in.client.Exited() {
		if proc, err := os.FindProcess(in.pid); err == nil {
			_ = proc.Kill()
		}
	}
	in.client.Kill()
}

var incompatibleRE = regexp.MustCompile(`[Pp]lugin version: (\d+)`)

// start verifies and launches one plugin process.
func start(s Spec, o Options, log *slog.Logger) (*instance, error) {
	want, err := s.pinned()
	if err != nil {
		return nil, err
	}
	if _, err := Verify(s); err != nil {
		return nil, err
	}
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env = s.environ()
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  wire.Handshake(),
		VersionedPlugins: wire.VersionedPlugins(nil, o.SupportedVersions...),
		Cmd:              cmd,
		SecureConfig:     &plugin.SecureConfig{Checksum: want, Hash: sha256.New()},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		Managed:          true,
		StartTimeout:     s.startTimeout(),
		Logger:           hclogFor(log, "plugin"),
		Stderr:           io.Discard,
		SyncStderr:       &slogWriter{l: log.With("stream", "stderr")},
		SyncStdout:       &slogWriter{l: log.With("stream", "stdout")},
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(wire.MaxMessageBytes), grpc.MaxCallSendMsgSize(wire.MaxMessageBytes))},
	})
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			return nil, fmt.Errorf("refusing to start plugin %q: %s changed after it was verified: %w", s.Name, s.Path, ErrChecksumMismatch)
		}
		if m := incompatibleRE.FindStringSubmatch(err.Error()); m != nil {
			return nil, incompatible(s, o, m[1])
		}
		return nil, adapter.Retryable(fmt.Errorf("starting plugin %q (%s): %w", s.Name, s.Path, err))
	}
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		client.Kill()
		return nil, adapter.Retryable(fmt.Errorf("connecting to plugin %q: %w", s.Name, err))
	}
	in := &instance{client: client, a: raw.(adapter.Adapter), version: client.NegotiatedVersion()}
	in.watchCtx, in.stopWatch = context.WithCancel(context.Background())
	if rc := client.ReattachConfig(); rc != nil {
		in.pid = rc.Pid
	}
	log.Debug("plugin started", "pid", in.pid, "protocol", in.version)
	return in, nil
}

// incompatible builds the negotiation error: the path, what the plugin
// offers (asked with its --describe flag; else the version it answered
// with) and what the host supports.
func incompatible(s Spec, o Options, answered string) error {
	offers := "version " + answered
	if vs, err := describeVersions(s); err == nil && len(vs) > 0 {
		offers = "versions " + fmt.Sprint(vs)
	}
	return fmt.Errorf("plugin %q at %s offers protocol %s; this host supports %v: %w",
		s.Name, s.Path, offers, o.SupportedVersions, adapter.Permanent(ErrIncompatible))
}

// describeVersions runs the plugin with wire.DescribeFlag (outside the
// handshake, with the same restricted environment) and returns the
// protocol versions it lists.
func describeVersions(s Spec) ([]int, error) {
	d, err := describeBinary(s)
	if err != nil {
		return nil, err
	}
	return d.ProtocolVersions, nil
}

func describeBinary(s Spec) (wire.Description, error) {
	var d wire.Description
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Path, append(slices.Clone(s.Args), wire.DescribeFlag)...)
	cmd.Env = s.environ()
	out, err := cmd.Output()
	if err != nil {
		return d, fmt.Errorf("running %s %s: %w", s.Path, wire.DescribeFlag, err)
	}
	if err := json.Unmarshal(out, &d); err != nil {
		return d, fmt.Errorf("decoding %s %s output: %w", s.Path, wire.DescribeFlag, err)
	}
	return d, nil
}

// versionString formats a negotiated version for listings.
func versionString(v int) string {
	if v == 0 {
		return "-"
	}
	return strconv.Itoa(v)
}
