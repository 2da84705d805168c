package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputsAndTheirExitCodes: every command refuses what `run` would
// refuse, before it does anything, with the README's exit codes: 2 for
// bad flags or arguments, 3 for an invalid configuration. Before one
// validation path, `pull_interval: 5`, `enabled: maybe` and a 15-character
// outbound secret all passed `config validate` (exit 0), write-back to a
// platform that does not exist too, and unknown subcommands exited 0.
func TestBadInputsAndTheirExitCodes(t *testing.T) {
	const base = "log: {level: warn}\nstore: {driver: sqlite, path: %DB%}\n"
	configs := []struct {
		name, yaml, want string
	}{
		{"duration without unit", "schedule: {pull_interval: 5}\n", "schedule.pull_interval: a duration needs a unit"},
		{"duration too short", "schedule: {pull_interval: 1s}\n", "schedule.pull_interval: must be at least 10s"},
		{"duration not a duration", "schedule: {reconcile_interval: daily}\n", "schedule.reconcile_interval: want a duration with a unit"},
		{"enabled not a boolean", "platforms: {hubspot: {enabled: maybe, token: pat-na1-x}}\n", "platforms.hubspot.enabled: must be true or false"},
		{"outbound secret too short", "outbound_webhooks: [{url: 'https://hooks.example.com/s', secret: whsec-change-me}]\n", "outbound_webhooks[0].secret: must be at least 16 characters"},
		{"unknown key with a suggestion", "schedule: {pull_intervall: 5m}\n", "schedule.pull_intervall: unknown key (did you mean pull_interval?)"},
		{"unknown section", "serverr: {listen: ':8080'}\n", "serverr: unknown key (did you mean server?)"},
		{"listen without port", "server: {listen: localhost}\n", "server.listen: want host:port"},
		{"write-back to no platform", "platforms: {hubspot: {token: pat-na1-x}}\nsegments: [{name: rfm, kind: rfm, writeback: {hubspott: {property: rfm}}}]\n", "segments[0].writeback.hubspott: no platform or plugin is named"},
		{"not YAML", "schedule: [\n", "not valid YAML"},
		{"misspelt platform", "platforms: {hubspott: {token: pat-na1-x}}\n", `platforms.hubspott: no adapter is named "hubspott" (built in: hubspot, salesforce, woocommerce); did you mean hubspot?`},
	}
	commands := [][]string{
		{"config", "validate"}, {"config", "show"}, {"run"}, {"sync"}, {"status"},
		{"segments", "plan"}, {"segments", "apply", "--refresh"}, {"segments", "list"}, {"profiles", "list"},
		{"store", "migrate"}, {"webhooks", "list"},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "c.db")
			p := writeConfig(t, strings.ReplaceAll(base, "%DB%", db)+c.yaml)
			for _, cmd := range commands {
				code, _, errOut := runCLI(t, nil, append(cmd, "-c", p)...)
				if code != exitConfig || !strings.Contains(errOut, c.want) {
					t.Errorf("%s: exit %d, want %d with %q:\n%s", strings.Join(cmd, " "), code, exitConfig, c.want, errOut)
				}
			}
			if _, err := os.Stat(db); !os.IsNotExist(err) {
				t.Errorf("a command opened the store of an invalid configuration (%v)", err)
			}
		})
	}

	valid := writeConfig(t, "log: {level: warn}\nstore: {driver: sqlite, path: "+filepath.Join(t.TempDir(), "c.db")+"}\n")
	usage := []struct {
		name string
		args []string
	}{
		{"unknown command", []string{"no-such-command"}},
		{"unknown subcommand", []string{"segments", "bogus"}},
		{"unknown subcommand of store", []string{"store", "bogus", "-c", valid}},
		{"unknown flag", []string{"sync", "--bogus", "-c", valid}},
		{"bad -o", []string{"sync", "-o", "xml", "-c", valid}},
		{"bad -o on config validate", []string{"config", "validate", "-o", "xml", "-c", valid}},
		{"extra argument", []string{"segments", "plan", "extra", "-c", valid}},
		{"missing argument", []string{"profiles", "show", "-c", valid}},
		{"missing required flag", []string{"analyze"}},
		{"--set without =", []string{"config", "validate", "--set", "schedule.pull_interval", "-c", valid}},
		{"config file missing", []string{"config", "validate", "-c", filepath.Join(t.TempDir(), "nope.yaml")}},
		{"bad flag value of a contributed command", []string{"sandbox", "--customers", "0"}},
		{"bad flag value of webhooks list", []string{"webhooks", "list", "--status", "bogus", "-c", valid}},
		{"bad --as-of", []string{"segments", "plan", "--as-of", "notadate", "-c", valid}},
		{"sync of a platform not configured", []string{"sync", "nosuchplatform", "-c", valid}},
	}
	for _, u := range usage {
		if code, _, errOut := runCLI(t, nil, u.args...); code != exitUsage {
			t.Errorf("%s (%s): exit %d, want %d:\n%s", u.name, strings.Join(u.args, " "), code, exitUsage, errOut)
		}
	}
	if code, _, errOut := runCLI(t, nil, "config", "validate", "-c", valid); code != exitOK {
		t.Errorf("a valid configuration: exit %d:\n%s", code, errOut)
	}
}
