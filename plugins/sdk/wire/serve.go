package wire

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// MaxMessageBytes is the largest single gRPC message host and plugin
// accept. Pull pages are chunked well below it; it bounds Push, Fetch and
// webhook bodies.
const MaxMessageBytes = 64 << 20

// DescribeFlag makes a plugin binary print its Description as JSON and
// exit, instead of serving. The host runs it to explain a failed version
// negotiation; people run it to see what a binary is.
const DescribeFlag = "--describe"

// Description is what a plugin binary prints for DescribeFlag.
type Description struct {
	ProtocolVersions []int `json:"protocol_versions"`
	// ProtocolMinor is the minor version of the newest major the binary
	// speaks; absent (0) from plugins built against 1.0.
	ProtocolMinor int                `json:"protocol_minor,omitempty"`
	Adapter       adapter.Descriptor `json:"adapter"`
}

// Option adjusts Serve.
type Option func(*serveOptions)

type serveOptions struct {
	logger hclog.Logger
	test   *plugin.ServeTestConfig
	args   []string
	stdout io.Writer
}

// WithLogger sets the logger go-plugin's server machinery writes to. The
// default writes JSON to stderr, which the host bridges into its logs.
func WithLogger(l hclog.Logger) Option { return func(o *serveOptions) { o.logger = l } }

// WithTestConfig runs the server in go-plugin's test mode (in-process,
// reattachable); for hosts' tests only.
func WithTestConfig(tc *plugin.ServeTestConfig) Option {
	return func(o *serveOptions) { o.test = tc }
}

// WithArgs replaces os.Args[1:] when looking for DescribeFlag, for hosts
// that serve built-in adapters from a subcommand.
func WithArgs(args []string) Option { return func(o *serveOptions) { o.args = args } }

// Serve serves a as a plugin until the host disconnects; it is the whole
// of a plugin's main function. Run by hand with DescribeFlag it prints the
// plugin's Description instead.
func Serve(a adapter.Adapter, opts ...Option) {
	o := serveOptions{args: os.Args[1:], stdout: os.Stdout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.test == nil && os.Getenv(MagicCookieKey) != MagicCookieValue {
		if !slices.Contains(o.args, DescribeFlag) {
			fmt.Fprintf(os.Stderr, "This is a connector adapter plugin: the connector starts it (declare it under plugins: in the config).\n"+
				"Run it with %s to see what it offers.\n", DescribeFlag)
			os.Exit(1)
		}
		if err := describe(a, o.stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	cfg := &plugin.ServeConfig{
		HandshakeConfig:  Handshake(),
		VersionedPlugins: VersionedPlugins(a, SupportedVersions()...),
		GRPCServer: func(gopts []grpc.ServerOption) *grpc.Server {
			gopts = append(gopts, grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes))
			return grpc.NewServer(gopts...)
		},
		Logger: o.logger,
		Test:   o.test,
	}
	plugin.Serve(cfg)
}

func describe(a adapter.Adapter, w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := a.Describe(ctx)
	if err != nil {
		return fmt.Errorf("describing adapter: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Description{ProtocolVersions: SupportedVersions(), ProtocolMinor: ProtocolMinor, Adapter: d}); err != nil {
		return fmt.Errorf("writing description: %w", err)
	}
	return nil
}
