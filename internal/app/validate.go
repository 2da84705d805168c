package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/adapter/spec"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pluginhost"
)

// Validate makes every check Open and the daemon would make on a loaded
// configuration, without contacting a platform, so `config validate` and
// every command refuse what `run` would refuse, before doing anything:
// each enabled platform's section against its adapter's schema and its
// own ValidateConfig; each plugin (started after its checksum is
// verified, then stopped) against the schema it describes, and its name
// against the platform name it stamps on its records; the segment
// definitions, and that their write-back names a configured platform or
// plugin; the outbound webhooks as their dispatcher reads them.
//
// It returns the problems found, each with its path, and an error only
// when an adapter cannot even describe itself.
func Validate(ctx context.Context, l *config.Loaded, factories map[string]Factory, log *slog.Logger) (config.Problems, error) {
	var ps config.Problems
	for _, name := range enabledPlatformNames(l) {
		prefix := "platforms." + name
		f, ok := factories[name]
		if !ok {
			msg := fmt.Sprintf("unknown platform %q (built in: %s)", name, names(factories))
			if hint := spec.Suggest(name, sortedKeys(factories)); strings.HasPrefix(hint, "did you mean") {
				msg += "; " + hint
			}
			ps = append(ps, config.Problem{Path: prefix, Message: msg})
			continue
		}
		more, err := validateSection(ctx, f(log), prefix, WithoutEnabled(l.Platforms[name]), log)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", prefix, err)
		}
		ps = append(ps, more...)
	}
	ps = append(ps, validatePlugins(ctx, l, log)...)
	if _, err := SegmentDefinitions(l); err != nil {
		ps = append(ps, problemsOf(err)...)
	} else {
		ps = append(ps, validateWriteback(l, factories)...)
	}
	if _, err := outbound.FromConfig(l.Outbound); err != nil {
		ps = append(ps, problemsOf(err)...)
	}
	return dedupe(ps), nil
}

// validateSection checks one section against a's schema and its own
// ValidateConfig; warnings are logged.
func validateSection(ctx context.Context, a adapter.Adapter, prefix string, sec adapter.Config, log *slog.Logger) (config.Problems, error) {
	desc, err := a.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("describing the adapter: %w", err)
	}
	ps := config.ValidatePlatform(prefix, sec, desc.ConfigSchema)
	diags, err := a.ValidateConfig(ctx, sec)
	if err != nil {
		return nil, fmt.Errorf("validating: %w", err)
	}
	for _, d := range diags {
		if d.Severity != adapter.SeverityError {
			log.Warn("configuration warning", "path", d.Path, "summary", d.Summary)
			continue
		}
		path := d.Path
		switch {
		case path == "":
			path = prefix
		case !strings.HasPrefix(path, prefix):
			path = prefix + "." + path
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += " (" + d.Detail + ")"
		}
		ps = append(ps, config.Problem{Path: path, Message: msg})
	}
	return ps, nil
}

// validatePlugins starts each configured plugin (after its checksum is
// verified), checks its section and its name, and stops it.
func validatePlugins(ctx context.Context, l *config.Loaded, log *slog.Logger) config.Problems {
	var ps config.Problems
	seen := map[string]int{}
	for i, pc := range l.Plugins {
		prefix := fmt.Sprintf("plugins[%d]", i)
		if j, dup := seen[pc.Name]; dup && pc.Name != "" {
			ps = append(ps, config.Problem{Path: prefix + ".name", Message: fmt.Sprintf("%q is also plugins[%d]", pc.Name, j)})
		}
		seen[pc.Name] = i
		if _, builtin := l.Platforms[pc.Name]; builtin {
			ps = append(ps, config.Problem{Path: prefix + ".name", Message: fmt.Sprintf("%q is also a section under platforms", pc.Name)})
		}
		if pc.Path == "" || pc.SHA256 == "" {
			continue // the loader reported it
		}
		pl, err := pluginhost.Open(ctx, PluginSpec(pc), pluginhost.Options{Logger: log})
		if err != nil {
			ps = append(ps, config.Problem{Path: prefix, Message: err.Error()})
			continue
		}
		desc, err := pl.Describe(ctx)
		if err == nil && desc.Name != "" && desc.Name != pc.Name {
			// The plugin stamps its records and reads write-back targets
			// under its own name; under another it would write nothing.
			ps = append(ps, config.Problem{Path: prefix + ".name", Message: fmt.Sprintf(
				"%q, but the plugin's platform is %q (its records carry that name): name it %s", pc.Name, desc.Name, desc.Name)})
		}
		if err == nil {
			var more config.Problems
			more, err = validateSection(ctx, pl, prefix+".config", pc.Config, log)
			ps = append(ps, more...)
		}
		if err != nil {
			ps = append(ps, config.Problem{Path: prefix, Message: "asking the plugin: " + err.Error()})
		}
		_ = pl.Close(ctx)
	}
	return ps
}

// validateWriteback refuses write-back to a platform that is neither a
// platform section, a built-in adapter nor a configured plugin: nothing
// would ever be written there.
func validateWriteback(l *config.Loaded, factories map[string]Factory) config.Problems {
	known := map[string]bool{}
	for n := range l.Platforms {
		known[n] = true
	}
	for n := range factories {
		known[n] = true
	}
	for _, pc := range l.Plugins {
		known[pc.Name] = true
	}
	var ps config.Problems
	for i, seg := range l.Segments {
		wb, _ := seg["writeback"].(map[string]any)
		for _, p := range sortedKeys(wb) {
			if !known[p] {
				list := sortedKeys(known)
				ps = append(ps, config.Problem{Path: fmt.Sprintf("segments[%d].writeback.%s", i, p),
					Message: fmt.Sprintf("no platform or plugin is named %q (known: %s)", p, strings.Join(list, ", "))})
			}
		}
	}
	return ps
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func names(factories map[string]Factory) string {
	if len(factories) == 0 {
		return "none"
	}
	return strings.Join(sortedKeys(factories), ", ")
}

// dedupe keeps the first problem per path and sorts them by path.
func dedupe(ps config.Problems) config.Problems {
	seen := map[string]bool{}
	out := ps[:0]
	for _, p := range ps {
		if !seen[p.Path] {
			seen[p.Path] = true
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b config.Problem) int { return strings.Compare(a.Path, b.Path) })
	return out
}
