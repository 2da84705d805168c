package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

// Validate makes every check Open and the daemon would make on a loaded
// configuration, without contacting a platform, so `config validate` and
// every command refuse what `run` would refuse, before doing anything:
// that each instance's adapter exists (a built-in or a configured plugin),
// each enabled section against its adapter's schema and its own
// ValidateConfig; each plugin (started after its checksum is verified,
// then stopped) against the schema it describes; the segment
// definitions, and that their write-back names a configured instance or
// adapter; the outbound webhooks as their dispatcher reads them.
//
// It returns the problems found, each with its path, and an error only
// when an adapter cannot even describe itself.
func Validate(ctx context.Context, l *config.Loaded, factories map[string]Factory, log *slog.Logger) (config.Problems, error) {
	var ps config.Problems
	plugins := map[string]bool{}
	for _, pc := range l.Plugins {
		plugins[pc.Name] = true
	}
	for _, in := range l.Instances() {
		if in.Plugin != nil {
			continue // validatePlugins starts it
		}
		f, ok := factories[in.Adapter]
		if !ok {
			ps = append(ps, unknownAdapter(in, factories, plugins))
			continue
		}
		more, err := validateSection(ctx, f(log), in.Path, in.Section, log)
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", in.Path, err)
		}
		ps = append(ps, more...)
	}
	ps = append(ps, validatePlugins(ctx, l, factories, log)...)
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

// unknownAdapter says that an instance names no adapter: on its adapter:
// key when it has one, else on the section, asking for one.
func unknownAdapter(in config.Instance, factories map[string]Factory, plugins map[string]bool) config.Problem {
	known := sortedKeys(factories)
	for p := range plugins {
		if p != "" && !slices.Contains(known, p) {
			known = append(known, p)
		}
	}
	slices.Sort(known)
	list := "built in: " + names(factories)
	if len(plugins) > 0 {
		list += "; plugins: " + strings.Join(sortedKeys(plugins), ", ")
	}
	hint := spec.Suggest(in.Adapter, known)
	if !strings.HasPrefix(hint, "did you mean") {
		hint = ""
	}
	if in.Adapter != in.Name {
		msg := fmt.Sprintf("unknown adapter %q for instance %q (%s)", in.Adapter, in.Name, list)
		if hint != "" {
			msg += "; " + hint
		}
		return config.Problem{Path: in.Path + "." + config.KeyAdapter, Message: msg}
	}
	msg := fmt.Sprintf("no adapter is named %q: say which adapter this instance runs with adapter: (%s)", in.Name, list)
	if hint != "" {
		meant := strings.TrimSuffix(strings.TrimPrefix(hint, "did you mean "), "?")
		msg = fmt.Sprintf("no adapter is named %q (%s); %s (or add adapter: %s to run an instance of it under this name)", in.Name, list, hint, meant)
	}
	return config.Problem{Path: in.Path, Message: msg}
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
// verified) and checks the section of each of its instances against the
// schema it describes, and stops it.
func validatePlugins(ctx context.Context, l *config.Loaded, factories map[string]Factory, log *slog.Logger) config.Problems {
	var ps config.Problems
	seen := map[string]int{}
	instances := l.Instances()
	for i, pc := range l.Plugins {
		prefix := fmt.Sprintf("plugins[%d]", i)
		if j, dup := seen[pc.Name]; dup && pc.Name != "" {
			ps = append(ps, config.Problem{Path: prefix + ".name", Message: fmt.Sprintf("%q is also plugins[%d]", pc.Name, j)})
			continue
		}
		seen[pc.Name] = i
		if _, builtin := factories[pc.Name]; builtin {
			// adapter: hubspot would be ambiguous.
			ps = append(ps, config.Problem{Path: prefix + ".name", Message: fmt.Sprintf("%q is a built-in adapter's name: name the plugin otherwise", pc.Name)})
			continue
		}
		if pc.Path == "" || pc.SHA256 == "" {
			continue // the loader reported it
		}
		var mine []config.Instance
		for _, in := range instances {
			if in.Plugin != nil && in.Plugin.Name == pc.Name {
				mine = append(mine, in)
			}
		}
		pl, err := pluginhost.Open(ctx, PluginSpec(pc), pluginhost.Options{Logger: log})
		if err != nil {
			ps = append(ps, config.Problem{Path: prefix, Message: err.Error()})
			continue
		}
		for _, in := range mine {
			more, err := validateSection(ctx, pl, in.Path, in.Section, log)
			ps = append(ps, more...)
			if err != nil {
				ps = append(ps, config.Problem{Path: prefix, Message: "asking the plugin: " + err.Error()})
				break
			}
		}
		_ = pl.Close(ctx)
	}
	return ps
}

// validateWriteback refuses write-back to a name that is neither an
// instance nor the adapter of one (which stands for all its instances):
// nothing would ever be written there.
func validateWriteback(l *config.Loaded, factories map[string]Factory) config.Problems {
	known := map[string]bool{}
	for ad, names := range l.InstancesByAdapter() {
		known[ad] = true
		for _, n := range names {
			known[n] = true
		}
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
