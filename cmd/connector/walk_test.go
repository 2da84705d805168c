package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/segconn/connector/internal/testenv"
)

// commandPaths lists every command of the CLI as its arguments.
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	var out [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		out = append(out, path)
		for _, s := range c.Commands() {
			walk(s, append(slicesClone(path), s.Name()))
		}
	}
	walk((&cli{}).rootCommand(), nil)
	return out
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// placeholder is what --help shows for a flag's value: one word.
var placeholder = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// TestEveryCommandHelp: every command's --help exits 0 and shows its
// usage, and every flag's value placeholder is one word (a backquoted
// phrase in a flag's usage used to become the placeholder, as in
// "--save segments apply --plan").
func TestEveryCommandHelp(t *testing.T) {
	for _, path := range commandPaths(t) {
		code, out, errOut := runCLI(t, nil, append(path, "--help")...)
		if code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("%v --help: exit %d\n%s%s", path, code, out, errOut)
		}
		c, _, err := (&cli{}).rootCommand().Find(path)
		if err != nil {
			t.Fatal(err)
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			name, _ := pflag.UnquoteUsage(f)
			if name != "" && !placeholder.MatchString(name) {
				t.Errorf("%v --%s: placeholder %q is not one word", path, f.Name, name)
			}
		})
	}
}

// TestEveryCommandJSON: every command that prints something answers -o
// json with exactly one JSON document on stdout. config validate, plugins
// list and plugins verify used to ignore -o json.
func TestEveryCommandJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every command against fake platforms")
	}
	_, cfg := sandboxConfigFile(t, 80)
	orders := testenv.SharedFile(t, "data/cdnow/CDNOW_sample.txt")
	args := map[string][]string{
		"analyze":          {"--orders", orders, "--as-of", "1998-07-01", "--preset", "cdnow-sample"},
		"export":           {"--dir", t.TempDir(), "--format", "csv"},
		"profiles show":    {"customer1@example.com"},
		"segments explain": {"customer1@example.com"},
		"segments apply":   {"--refresh"},
		"quarantine show":  {"1"},
		"quarantine retry": {"--all"},
		"writeback retry":  {"--all"},
		"report review":    {"--from", "2026-01-01", "--to", "2027-01-01"},
		"users add":        {"ada", "--role", "admin"},
		"plugins describe": {"none"},
		"status":           {"--url", "http://127.0.0.1:1/api/v1/status"},
		"completion bash":  nil,
		// Its JSON is the same at any size; its default of 10,000 people
		// took most of this test's time, and minutes under load.
		"bench scale": {"--customers", "50"},
	}
	// Commands that serve until interrupted, print shell code, or need a
	// record the sandbox does not have are not asked for JSON.
	skip := map[string]string{
		"":                      "the root prints help",
		"run":                   "serves until interrupted",
		"sandbox":               "serves until interrupted",
		"demo":                  "serves until interrupted",
		"plugin-serve":          "speaks the plugin protocol on stdio",
		"completion":            "prints shell code",
		"completion bash":       "prints shell code",
		"completion zsh":        "prints shell code",
		"completion fish":       "prints shell code",
		"completion powershell": "prints shell code",
		"help":                  "prints help",
		"quarantine show":       "the sandbox quarantines nothing",
		"plugins describe":      "no plugin is configured",
		"profiles show":         "emails differ per seed; profiles list covers the profile JSON",
		"segments explain":      "emails differ per seed",
		"privacy erase":         "erases a person; TestPrivacyEraseAndStatus covers its JSON",
		"plugins install":       "needs a plugin binary; TestPluginsInstallThenList covers it",
	}
	order := []string{"sync", "segments plan", "segments apply"} // data first
	var rest []string
	for _, p := range commandPaths(t) {
		key := strings.Join(p, " ")
		c, _, _ := (&cli{}).rootCommand().Find(p)
		if c.HasSubCommands() || skip[key] != "" || key == "sync" || key == "segments plan" || key == "segments apply" {
			continue
		}
		rest = append(rest, key)
	}
	for _, key := range append(order, rest...) {
		argv := append(strings.Fields(key), args[key]...)
		argv = append(argv, "-o", "json", "-c", cfg)
		code, out, errOut := runCLI(t, nil, argv...)
		if code != exitOK {
			t.Errorf("%s -o json: exit %d\n%s%s", key, code, out, errOut)
			continue
		}
		if err := oneJSONDocument(out); err != nil {
			t.Errorf("%s -o json: %v:\n%.400s", key, err, out)
		}
	}
}

// oneJSONDocument checks s holds one JSON value and nothing else.
func oneJSONDocument(s string) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if err := dec.Decode(&v); !errors.Is(err, io.EOF) {
		return errors.New("more than one JSON document, or text after it")
	}
	return nil
}
