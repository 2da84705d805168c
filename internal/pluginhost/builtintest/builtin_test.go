// Package builtintest runs the conformance kit against the three built-in
// connectors through the plugin boundary: each is served by a real plugin
// process (the same ServeBuiltin path as `connector plugin-serve`) and
// reached through pluginhost, as the daemon would reach a third-party
// plugin. The harnesses are the fakes' own (hubspotfake.Harness, …); the
// in-process and in-memory gRPC runs live in each connector's
// conformance_test.go.
package builtintest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot"
	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/salesforce"
	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/connectors/woocommerce"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

var serveBin string

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "builtintest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	serveBin = filepath.Join(dir, "serve")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", serveBin, "./testdata/serve").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the built-in plugin server: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// throughPlugin replaces h.New with the built-in name served by a plugin
// process under pluginhost.
func throughPlugin(h sdktest.Harness, name string) sdktest.Harness {
	h.Name += "/plugin-process"
	h.New = func(t testing.TB) adapter.Adapter {
		sum, err := pluginhost.FileSHA256(serveBin)
		if err != nil {
			t.Fatal(err)
		}
		p, err := pluginhost.Open(context.Background(), pluginhost.Spec{
			Name: name, Path: serveBin, SHA256: sum, Args: []string{name}, AllowEnv: []string{"TZ"},
		}, pluginhost.Options{})
		if err != nil {
			t.Fatalf("starting built-in %s as a plugin: %v", name, err)
		}
		return p
	}
	return h
}

func TestSalesforceThroughPlugin(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, throughPlugin(salesforcefake.Harness(nil), salesforce.Name))
}

func TestWooCommerceThroughPlugin(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, throughPlugin(woocommercefake.Harness(nil), woocommerce.Name))
}

func TestHubSpotThroughPlugin(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, throughPlugin(hubspotfake.Harness(nil), hubspot.Name))
}
