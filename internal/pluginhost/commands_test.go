package pluginhost_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/examples/csvfolder"
)

func runCLI(t *testing.T, specs []pluginhost.Spec, args ...string) (string, error) {
	t.Helper()
	cmd := pluginhost.NewCommand(func(context.Context) ([]pluginhost.Spec, pluginhost.Options, error) {
		return specs, pluginhost.Options{}, nil
	})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestPluginsCommands(t *testing.T) {
	t.Parallel()
	good := spec(t, "csv")
	bad := spec(t, "tampered")
	bad.SHA256 = strings.Repeat("0", 64)
	future := spec(t, "future")
	future.Args = []string{"--protocol=7"}

	old := spec(t, "old")
	old.Args = []string{"--protocol10"}
	out, err := runCLI(t, []pluginhost.Spec{good, bad, old}, "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "checksum mismatch") || strings.Count(out, " ok") != 2 {
		t.Errorf("plugins list:\n%s", out)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	// NAME VERSION PROTOCOL CAPABILITIES…: the csv example speaks 1.1, the
	// same code served as a 1.0 binary 1.0; the tampered file is not run.
	if r := rows["csv"]; len(r) < 4 || r[1] != csvfolder.Version || r[2] != "1.2" || !strings.Contains(out, "read contact,order; write property,list; webhooks") {
		t.Errorf("plugins list row for csv: %q\n%s", r, out)
	}
	if r := rows["old"]; len(r) < 3 || r[2] != "1.0" {
		t.Errorf("plugins list row for a 1.0 plugin: %q\n%s", r, out)
	}
	if r := rows["tampered"]; len(r) < 3 || r[1] != "-" || r[2] != "-" {
		t.Errorf("plugins list ran or described a tampered plugin: %q", r)
	}

	out, err = runCLI(t, []pluginhost.Spec{good, bad, future}, "verify")
	if err == nil {
		t.Errorf("plugins verify succeeded with a tampered and an incompatible plugin:\n%s", out)

	}
	for _, want := range []string{"csv: ok: protocol 1, adapter csvfolder", "tampered: FAILED", "future: FAILED", "supports [1]"} {
		if !strings.Contains(out, want) {
			t.Errorf("plugins verify output lacks %q:\n%s", want, out)
		}
	}
	if _, err := runCLI(t, []pluginhost.Spec{good}, "verify", "csv"); err != nil {
		t.Errorf("plugins verify csv: %v", err)
	}
	if _, err := runCLI(t, []pluginhost.Spec{good}, "verify", "nope"); err == nil || !strings.Contains(err.Error(), `no plugin named "nope"`) {
		t.Errorf("plugins verify nope: %v", err)
	}

	out, err = runCLI(t, []pluginhost.Spec{good}, "describe", "csv")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Plugin   string
		Protocol int
		Adapter  struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Plugin != "csv" || d.Protocol != 1 || d.Adapter.Name != "csvfolder" {
		t.Errorf("plugins describe: %v\n%s", err, out)
	}
}
