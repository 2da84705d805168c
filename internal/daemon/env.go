// Package daemon wires the connector together and runs it: it opens the
// store, configures every platform adapter, builds the segment engine and
// the pipeline, and runs the long-lived parts of `connector run`: the HTTP
// server (webhooks, health, metrics, dashboard), the webhook inbox
// processor, the per-platform write-back drainers and the scheduled jobs on
// the durable job queue.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/core/segment"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/store/sqlite"
)

// Factory makes an unconfigured adapter.
type Factory func(*slog.Logger) adapter.Adapter

// Env is an opened connector: store, adapters, engine and pipeline.
type Env struct {
	Config   *config.Loaded
	Log      *slog.Logger
	Store    store.Store
	Engine   *segment.Engine
	Pipeline *pipeline.Pipeline
	Adapters map[string]adapter.Adapter
	// Outbound delivers segment.entered/left events; nil without endpoints.
	Outbound *outbound.Dispatcher

	// metrics hear of the adapters' HTTP requests from Open on; the
	// daemon serves them.
	metrics *metrics
}

// PluginSpec turns a plugin's configuration into a launch spec.
func PluginSpec(pc config.Plugin) pluginhost.Spec {
	return pluginhost.Spec{Name: pc.Name, Path: pc.Path, SHA256: pc.SHA256, AllowEnv: pc.Env, Args: pc.Args,
		CallTimeout: pc.CallTimeout, StartTimeout: pc.StartTimeout}
}

// OutboundQueue returns the outbound delivery queue kept by the store.
func OutboundQueue(_ context.Context, st store.Store) (*outbound.StoreQueue, error) {
	return outbound.NewStoreQueue(st), nil
}

func openOutbound(ctx context.Context, cfg *config.Loaded, st store.Store, log *slog.Logger) (*outbound.Dispatcher, error) {
	if len(cfg.Outbound) == 0 {
		return nil, nil
	}
	eps, err := outbound.FromConfig(cfg.Outbound)
	if err != nil {
		return nil, fmt.Errorf("configuring outbound webhooks: %w", err)
	}
	q, err := OutboundQueue(ctx, st)
	if err != nil {
		return nil, err
	}
	if err := startRelay(ctx, st); err != nil {
		return nil, fmt.Errorf("placing the outbound relay: %w", err)
	}
	return outbound.New(outbound.Options{Queue: q, Endpoints: eps, Logger: log.With("component", "outbound")})
}

// Open builds an Env. Adapters are described and configured; a platform
// that fails to configure is an error, as is an invalid segment definition.
func Open(ctx context.Context, cfg *config.Loaded, log *slog.Logger, factories map[string]Factory) (*Env, error) {
	defs, err := SegmentDefinitions(cfg)
	if err != nil {
		return nil, err
	}
	eng, err := segment.NewEngine(defs, segment.Options{})
	if err != nil {
		return nil, fmt.Errorf("building the segment engine: %w", err)
	}
	st, err := OpenStore(ctx, cfg.Store, log)
	if err != nil {
		return nil, err
	}
	env := &Env{Config: cfg, Log: log, Store: st, Engine: eng, Adapters: map[string]adapter.Adapter{}, metrics: newMetrics()}
	var platforms []*pipeline.Platform
	for name, sec := range cfg.Platforms {
		if en, ok := sec["enabled"].(bool); ok && !en {
			continue
		}
		f, ok := factories[name]
		if !ok {
			env.Close(ctx)
			return nil, fmt.Errorf("platform %q has no built-in adapter", name)
		}
		a := f(log.With("platform", name))
		if o, ok := a.(adapter.Observable); ok {
			o.ObserveHTTP(env.metrics.observer(name))
		}
		pl, err := configure(ctx, name, a, withoutEnabled(sec))
		if err != nil {
			env.Close(ctx)
			return nil, err
		}
		env.Adapters[name] = pl.Adapter
		platforms = append(platforms, pl)
	}
	for i, pc := range cfg.Plugins {
		spec := PluginSpec(pc)
		pl, err := pluginhost.Open(ctx, spec, pluginhost.Options{Logger: log})
		if err != nil {
			env.Close(ctx)
			return nil, fmt.Errorf("starting plugins[%d] (%s): %w", i, pc.Name, err)
		}
		env.Adapters[pc.Name] = pl // registered first, so Close stops it even if configuring fails
		p, err := configure(ctx, pc.Name, pl, pc.Config)
		if err != nil {
			env.Close(ctx)
			return nil, err
		}
		platforms = append(platforms, p)
	}
	outbox, err := openOutbound(ctx, cfg, st, log)
	if err != nil {
		env.Close(ctx)
		return nil, err
	}
	env.Outbound = outbox
	env.Pipeline = pipeline.New(pipeline.Options{
		Store: st, Engine: eng, Platforms: platforms, Logger: log, Currency: "USD",
	})
	return env, nil
}

func configure(ctx context.Context, name string, a adapter.Adapter, sec adapter.Config) (*pipeline.Platform, error) {
	desc, err := a.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("describing %s: %w", name, err)
	}
	if err := a.Configure(ctx, sec); err != nil {
		return nil, fmt.Errorf("configuring %s: %w", name, err)
	}
	account, _ := sec["account"].(string)
	return &pipeline.Platform{Name: name, Account: account, Adapter: a, Desc: desc}, nil
}

func withoutEnabled(sec adapter.Config) adapter.Config {
	out := make(adapter.Config, len(sec))
	for k, v := range sec {
		if k != "enabled" {
			out[k] = v
		}
	}
	return out
}

// OpenStore opens the configured store.
func OpenStore(ctx context.Context, sc config.Store, log *slog.Logger) (store.Store, error) {
	opts := store.Options{Logger: log}
	switch sc.Driver {
	case "postgres":
		s, err := postgres.Open(ctx, sc.DSN, postgres.Options{Options: opts, Schema: sc.Schema})
		if err != nil {
			return nil, fmt.Errorf("opening postgres store: %w", err)
		}
		return s, nil
	default:
		s, err := sqlite.Open(ctx, sc.Path, opts)
		if err != nil {
			return nil, fmt.Errorf("opening sqlite store: %w", err)
		}
		return s, nil
	}
}

// Close releases adapters and the store.
func (e *Env) Close(ctx context.Context) {
	for name, a := range e.Adapters {
		if err := a.Close(ctx); err != nil {
			e.Log.Warn("closing adapter", "platform", name, "err", err)
		}
	}
	if e.Store != nil {
		if err := e.Store.Close(); err != nil {
			e.Log.Warn("closing store", "err", err)
		}
	}
}

// SegmentDefinitions parses the configured segment definitions, or returns
// the default set when none are configured. Problems come back as
// config.Problems with their paths.
func SegmentDefinitions(cfg *config.Loaded) ([]segment.Definition, error) {
	var raw []any
	for _, m := range cfg.Segments {
		raw = append(raw, m)
	}
	if len(raw) == 0 {
		raw = DefaultSegments(enabledPlatformNames(cfg))
	}
	defs, err := segment.ParseDefinitions(raw)
	if err != nil {
		return nil, problemsOf(err)
	}
	return defs, nil
}

func enabledPlatformNames(cfg *config.Loaded) []string {
	var out []string
	for name, sec := range cfg.Platforms {
		if en, ok := sec["enabled"].(bool); ok && !en {
			continue
		}
		out = append(out, name)
	}
	return out
}

// problemsOf turns the segment core's joined "path: message" errors into
// config problems.
func problemsOf(err error) config.Problems {
	var ps config.Problems
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		for _, line := range strings.Split(e.Error(), "\n") {
			path, msg, ok := strings.Cut(line, ": ")
			if !ok {
				path, msg = "segments", line
			}
			ps = append(ps, config.Problem{Path: path, Message: msg})
		}
	}
	return ps
}

// ErrNoPlatforms is returned by commands that need at least one platform.
var ErrNoPlatforms = errors.New("no platform is configured (add a section under platforms:)")

// DefaultSegments is the segment set used when the configuration has none:
// RFM groups, lifecycle stages and value tiers, written back to every
// enabled platform as a property, with lists for the RFM groups.
func DefaultSegments(platforms []string) []any {
	wb := func(prop string, list bool) map[string]any {
		m := map[string]any{}
		for _, p := range platforms {
			t := map[string]any{"property": prop}
			if list {
				t["list"] = true
			}
			m[p] = t
		}
		return m
	}
	return []any{
		map[string]any{"name": "rfm", "kind": "rfm", "writeback": wb("rfm_segment", true)},
		map[string]any{"name": "lifecycle", "kind": "lifecycle", "writeback": wb("lifecycle_stage", false)},
		map[string]any{"name": "value", "kind": "value", "writeback": wb("value_tier", false)},
	}
}
