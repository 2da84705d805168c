package pluginhost_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/testenv"
)

func TestInstallCopiesAndPins(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "plugins")
	in, err := pluginhost.Install(context.Background(), misbehaveBin, dir, "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pluginhost.FileSHA256(misbehaveBin)
	if in.Name != "csvfolder" || in.Path != filepath.Join(dir, "csvfolder") || in.SHA256 != want {
		t.Errorf("Install = %+v; want name csvfolder (the adapter's), path in %s, sha256 %s", in, dir, want)
	}
	if got, err := pluginhost.FileSHA256(in.Path); err != nil || got != want {
		t.Errorf("the copy has sha256 %s (%v), want %s", got, err, want)
	}
	if fi, err := os.Stat(in.Path); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("the copy is not executable: %v %v", fi.Mode(), err)
	}
	if _, err := pluginhost.Verify(pluginhost.Spec{Name: in.Name, Path: in.Path, SHA256: in.SHA256}); err != nil {
		t.Errorf("the pin does not verify: %v", err)
	}

	script := filepath.Join(t.TempDir(), "not-a-plugin")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := pluginhost.Install(context.Background(), script, dir, ""); !errors.Is(err, pluginhost.ErrNotAPlugin) {
		t.Errorf("Install of a script: %v, want ErrNotAPlugin", err)
	}
	if _, err := pluginhost.Install(context.Background(), misbehaveBin, dir, "../evil"); err == nil || !strings.Contains(err.Error(), "--name") {
		t.Errorf("Install with name ../evil: %v, want a refusal", err)
	}
}

func decode(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAddToConfigEditsOnlyThePluginEntry(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, example, 0o640); err != nil {
		t.Fatal(err)
	}
	before := decode(t, path)
	in := pluginhost.Installed{Name: "acme", Path: "/opt/connector/plugins/acme", SHA256: strings.Repeat("ab", 32)}
	if err := pluginhost.AddToConfig(path, in); err != nil {
		t.Fatal(err)
	}
	after := decode(t, path)
	plugins, _ := after["plugins"].([]any)
	if len(plugins) != 1 {
		t.Fatalf("plugins after install: %v", after["plugins"])
	}
	if e := plugins[0].(map[string]any); e["name"] != "acme" || e["path"] != in.Path || e["sha256"] != in.SHA256 {
		t.Errorf("entry %v", e)
	}
	delete(before, "plugins")
	delete(after, "plugins")
	if len(before) != len(after) {
		t.Errorf("install changed other keys: %d before, %d after", len(before), len(after))
	}
	b, _ := os.ReadFile(path)
	entry := "plugins:\n  - name: acme\n    path: /opt/connector/plugins/acme\n    sha256: " + in.SHA256 + "\n"
	if strings.Replace(string(b), entry, "plugins: []\n", 1) != string(example) {
		t.Errorf("install changed more than the plugins line; the file is now:\n%s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("install changed the file mode to %v", fi.Mode().Perm())
	}

	// Installing again (an upgrade) updates the entry and keeps its other keys.
	b = []byte(strings.Replace(string(b), "sha256: "+in.SHA256, "sha256: "+in.SHA256+"\n    env: [ACME_TOKEN]", 1))
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	in.SHA256 = strings.Repeat("cd", 32)
	if err := pluginhost.AddToConfig(path, in); err != nil {
		t.Fatal(err)
	}
	plugins, _ = decode(t, path)["plugins"].([]any)
	if e := plugins[0].(map[string]any); len(plugins) != 1 || e["sha256"] != in.SHA256 || e["env"] == nil {
		t.Errorf("after upgrading: %v", plugins)
	}

	// A second plugin is appended to the block list, before the comments
	// that introduce the next section.
	if err := pluginhost.AddToConfig(path, pluginhost.Installed{Name: "beta", Path: "/opt/b c", SHA256: in.SHA256}); err != nil {
		t.Fatal(err)
	}
	plugins, _ = decode(t, path)["plugins"].([]any)
	if len(plugins) != 2 || plugins[1].(map[string]any)["path"] != "/opt/b c" {
		t.Errorf("after a second install: %v", plugins)
	}
}

func TestAddToConfigWithoutAPluginsKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("log:\n  level: info # keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := pluginhost.Installed{Name: "acme", Path: "/p", SHA256: strings.Repeat("ab", 32)}
	if err := pluginhost.AddToConfig(path, in); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "log:\n  level: info # keep me\nplugins:\n  - name: acme\n    path: /p\n    sha256: " + in.SHA256 + "\n"; string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
}

func TestAddToConfigRefusesWhatItCannotEditSafely(t *testing.T) {
	t.Parallel()
	in := pluginhost.Installed{Name: "acme", Path: "/p", SHA256: strings.Repeat("ab", 32)}
	for name, body := range map[string]string{
		"plugins not a list": "plugins: everything\n",
		"not a mapping":      "- a\n- b\n",
		"two documents":      "log: {level: info}\n---\nplugins: []\n",
		"bad yaml":           "plugins: [\n",
		"flow list":          "plugins: [{name: x, path: /x, sha256: y}]\n",
	} {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := pluginhost.AddToConfig(path, in); !errors.Is(err, pluginhost.ErrUnsafeEdit) {
			t.Errorf("%s: %v, want ErrUnsafeEdit", name, err)
		}
		if b, _ := os.ReadFile(path); string(b) != body {
			t.Errorf("%s: the file changed to %q", name, b)
		}
	}
	if err := pluginhost.AddToConfig(filepath.Join(t.TempDir(), "missing.yaml"), in); !errors.Is(err, pluginhost.ErrUnsafeEdit) {
		t.Errorf("missing file: %v, want ErrUnsafeEdit", err)
	}
}
