package config

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
	yamlv3 "gopkg.in/yaml.v3"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

// EnvPrefix starts every environment variable the loader reads.
const EnvPrefix = "CONNECTOR_"

// Source says where configuration comes from.
type Source struct {
	File    string            // YAML file; "" for none
	Environ []string          // os.Environ() in production; nil reads none
	Set     map[string]string // --set path=value flags, applied last
}

// Problem is one thing wrong with a configuration.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) Error() string { return p.Path + ": " + p.Message }

// Problems is every problem found, sorted by path.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Loaded is a decoded configuration with the raw tree it came from.
type Loaded struct {
	Config
	// Raw is the merged tree before decoding, with secrets resolved.
	Raw map[string]any
	// SecretValues are the values of every secret found, for redaction.
	SecretValues []string
}

// Load reads, merges and decodes configuration. It returns Problems for
// anything wrong in the input, together with what could be decoded; other
// errors (an unreadable file) are plain and come with a nil *Loaded.
func Load(src Source) (*Loaded, error) {
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaultsTree(), "."), nil); err != nil {
		return nil, fmt.Errorf("loading defaults: %w", err)
	}
	if src.File != "" {
		if _, err := os.Stat(src.File); err != nil {
			return nil, fmt.Errorf("reading config file: %w", err)
		}
		if err := k.Load(file.Provider(src.File), yaml.Parser()); err != nil {
			return nil, Problems{{Path: src.File, Message: "not valid YAML: " + err.Error()}}
		}
	}
	if src.Environ != nil {
		envp := env.Provider(".", env.Opt{
			Prefix:        EnvPrefix,
			EnvironFunc:   func() []string { return src.Environ },
			TransformFunc: envKey,
		})
		if err := k.Load(envp, nil); err != nil {
			return nil, fmt.Errorf("loading environment: %w", err)
		}
	}
	if len(src.Set) > 0 {
		m := make(map[string]any, len(src.Set))
		for p, v := range src.Set {
			m[p] = scalar(v)
		}
		if err := k.Load(confmap.Provider(m, "."), nil); err != nil {
			return nil, fmt.Errorf("loading --set values: %w", err)
		}
	}
	raw := k.Raw()
	var problems Problems
	secrets := resolveSecretFiles(raw, "", &problems)

	var cfg Config
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		TagName:          "koanf",
		ErrorUnused:      true,
		WeaklyTypedInput: false,
		Result:           &cfg,
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			durationHook(),
		),
	})
	if err != nil {
		return nil, fmt.Errorf("building decoder: %w", err)
	}
	if err := dec.Decode(raw); err != nil {
		problems = append(problems, decodeProblems(err)...)
	}
	bad := map[string]bool{}
	for _, p := range problems {
		bad[p.Path] = true
	}
	for _, p := range append(cfg.validate(), cfg.checkMore()...) {
		if !bad[p.Path] { // a decode error on the same key says it already
			problems = append(problems, p)
		}
	}
	suggest(problems)
	sortProblems(problems)
	secrets = append(secrets, collectSecrets(raw, "")...)
	loaded := &Loaded{Config: cfg, Raw: raw, SecretValues: secrets}
	if len(problems) > 0 {
		// The partly decoded configuration comes back too, so callers can
		// add their own checks and report every problem at once.
		return loaded, problems
	}
	return loaded, nil
}

// envKey maps CONNECTOR_PLATFORMS__HUBSPOT__TOKEN to platforms.hubspot.token
// and parses the value as a YAML scalar so numbers and booleans keep their type.
func envKey(k, v string) (string, any) {
	k = strings.TrimPrefix(k, EnvPrefix)
	k = strings.ToLower(strings.ReplaceAll(k, "__", "."))
	return k, scalar(v)
}

func scalar(v string) any {
	var out any
	if err := yamlv3.Unmarshal([]byte(v), &out); err != nil {
		return v
	}
	switch out.(type) {
	case int, bool, float64:
		return out
	default:
		return v
	}
}

func defaultsTree() map[string]any {
	d := Defaults()
	return map[string]any{
		"log.level":                      d.Log.Level,
		"log.format":                     d.Log.Format,
		"store.driver":                   d.Store.Driver,
		"store.path":                     d.Store.Path,
		"server.listen":                  d.Server.Listen,
		"server.admin_listen":            DefaultAdminListen,
		"server.shutdown_timeout":        d.Server.ShutdownTimeout.String(),
		"schedule.pull_interval":         d.Schedule.PullInterval.String(),
		"schedule.reconcile_interval":    d.Schedule.ReconcileInterval.String(),
		"schedule.model_refresh":         d.Schedule.ModelRefresh.String(),
		"alerts.interval":                d.Alerts.Interval.String(),
		"alerts.platform_failing_for":    d.Alerts.PlatformFailingFor.String(),
		"alerts.writeback_failure_share": d.Alerts.WriteBackFailureShare,
		"alerts.segment_change_share":    d.Alerts.SegmentChangeShare,
		"alerts.dead_letter_growth":      d.Alerts.DeadLetterGrowth,
		"alerts.run_failed":              d.Alerts.RunFailed,
	}
}

var (
	reInvalidKeys = regexp.MustCompile(`^'([^']*)' has invalid keys: (.*)$`)
	reExpected    = regexp.MustCompile(`^'([^']*)' (.*)$`)
	reSHA256      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// decodeProblems turns mapstructure's messages into path-named problems.
func decodeProblems(err error) Problems {
	var msgs []string
	for _, e := range unwrapAll(err) {
		msgs = append(msgs, strings.Split(e.Error(), "\n")...)
	}
	var ps Problems
	for _, m := range msgs {
		m = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(m), "* "))
		if m == "" || strings.HasPrefix(m, "decoding failed due to") {
			continue
		}
		if g := reInvalidKeys.FindStringSubmatch(m); g != nil {
			if strings.HasSuffix(g[1], "config.Config") {
				g[1] = "" // mapstructure names the root by its Go type
			}
			for _, key := range strings.Split(g[2], ", ") {
				ps = append(ps, Problem{Path: joinPath(g[1], key), Message: "unknown key"})
			}
			continue
		}
		if g := reExpected.FindStringSubmatch(m); g != nil {
			ps = append(ps, Problem{Path: g[1], Message: g[2]})
			continue
		}
		ps = append(ps, Problem{Path: "(config)", Message: m})
	}
	return ps
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
		return out
	}
	return []error{err}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func sortProblems(ps Problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
}

// validate checks the host's own sections. Platform sections are checked by
// ValidatePlatforms against each adapter's schema and its ValidateConfig.
func (c *Config) validate() Problems {
	var ps Problems
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		ps = append(ps, Problem{"log.level", fmt.Sprintf("must be one of debug, info, warn, error; got %q", c.Log.Level)})
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		ps = append(ps, Problem{"log.format", fmt.Sprintf("must be text or json; got %q", c.Log.Format)})
	}
	switch c.Store.Driver {
	case "sqlite":
		if c.Store.Path == "" {
			ps = append(ps, Problem{"store.path", "required when store.driver is sqlite"})
		}
	case "postgres":
		if c.Store.DSN == "" {
			ps = append(ps, Problem{"store.dsn", "required when store.driver is postgres"})
		}
	default:
		ps = append(ps, Problem{"store.driver", fmt.Sprintf("must be sqlite or postgres; got %q", c.Store.Driver)})
	}
	if c.Server.ShutdownTimeout <= 0 {
		ps = append(ps, Problem{"server.shutdown_timeout", "must be positive"})
	}
	for i, p := range c.Plugins {
		path := fmt.Sprintf("plugins[%d]", i)
		if p.Name == "" {
			ps = append(ps, Problem{path + ".name", "required"})
		}
		if p.Path == "" {
			ps = append(ps, Problem{path + ".path", "required"})
		}
		if !reSHA256.MatchString(p.SHA256) {
			ps = append(ps, Problem{path + ".sha256", "required: the plugin binary's SHA-256 as 64 lower-case hex digits"})
		}
	}
	for i, o := range c.Outbound {
		path := fmt.Sprintf("outbound_webhooks[%d]", i)
		if !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
			ps = append(ps, Problem{path + ".url", "must be an http or https URL"})
		}
		if o.Secret == "" {
			ps = append(ps, Problem{path + ".secret", "required: events are signed with it"})
		}
		for j, e := range o.Events {
			if e != "segment.entered" && e != "segment.left" {
				ps = append(ps, Problem{fmt.Sprintf("%s.events[%d]", path, j), fmt.Sprintf("must be segment.entered or segment.left; got %q", e)})
			}
		}
	}
	_, idps := c.Identity.Policy(c.InstancesByAdapter())
	ps = append(ps, idps...)
	ps = append(ps, c.checkInstances()...)
	ps = append(ps, c.Alerts.validate()...)
	ps = append(ps, validateSpend(c.Spend)...)
	ps = append(ps, c.Review.validate(c.Alerts)...)
	ps = append(ps, c.validateWeb()...)
	return ps
}

// ValidatePlatform checks one platform section against its adapter's schema
// (unknown keys, types, required keys, enumerations) and returns problems
// with full paths. It is the same check the built-in adapters' decoder
// makes (package plugins/sdk/adapter/spec), for plugins whose struct the host does not
// have. The adapter's own ValidateConfig is run by the caller.
func ValidatePlatform(prefix string, cfg adapter.Config, schema []adapter.ConfigField) Problems {
	var ps Problems
	for _, d := range spec.Check(cfg, prefix, schema) {
		msg := d.Summary
		if d.Detail != "" {
			msg += " (" + d.Detail + ")"
		}
		ps = append(ps, Problem{Path: d.Path, Message: msg})
	}
	sortProblems(ps)
	return ps
}
