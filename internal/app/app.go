// Package app is the connector's application layer: it opens the store,
// configures every platform adapter, builds the segment engine and the
// pipeline (Open), and owns each use case once: sync, plan, apply (which
// records a plan and relays its segment events to the outbound webhooks
// under the segment lock), the full cycle, the webhook path, explain and
// status. The CLI and the daemon both call it; it knows nothing of HTTP,
// flags or loops, and no goroutine it starts outlives the call.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/store/sqlite"
)

// Currency is the currency of segment amounts (revenue, order values,
// lifetime values); orders in another currency are left out of them.
const Currency = "USD"

// Factory makes an unconfigured adapter.
type Factory func(*slog.Logger) adapter.Adapter

// Options tune Open beyond the configuration.
type Options struct {
	// ObserveHTTP, when set, hears every adapter's HTTP requests, built-in
	// or plugin, from Open on (the daemon's metrics). The App's health
	// tracker hears them too, whether or not it is set.
	ObserveHTTP func(platform string) adapter.HTTPObserver
	// StoreNow is the store's clock (default time.Now).
	StoreNow func() time.Time
	// PipelineNow is the clock that dates membership changes and retry
	// schedules (default time.Now), for simulating months in a test.
	PipelineNow func() time.Time
	// Hooks observe the pipeline's pulls and pushes (progress, metrics).
	Hooks pipeline.Hooks
	// NoPrivacyFanOut keeps a platform's privacy deletion on that
	// platform: the person is erased from the store, and their records on
	// the other platforms are left alone (their deletions are recorded as
	// skipped). By default the erasure fans out to every platform.
	NoPrivacyFanOut bool
}

// App is an opened connector: store, adapters, engine and pipeline.
type App struct {
	Config   *config.Loaded
	Log      *slog.Logger
	Store    store.Store
	Engine   *segment.Engine
	Pipeline *pipeline.Pipeline
	Adapters map[string]adapter.Adapter
	// Outbound delivers segment.entered/left events; nil without endpoints.
	Outbound *outbound.Dispatcher
	// Health tracks each platform's connection state from its HTTP
	// answers and from the outcome of its operations (see PlatformHealth).
	Health *health.Tracker

	opts Options
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

// Open builds an App. Adapters are described and configured; a platform
// that fails to configure is an error, as is an invalid segment definition.
func Open(ctx context.Context, cfg *config.Loaded, log *slog.Logger, factories map[string]Factory, opts Options) (*App, error) {
	defs, err := SegmentDefinitions(cfg)
	if err != nil {
		return nil, err
	}
	eng, err := segment.NewEngine(defs, segment.Options{})
	if err != nil {
		return nil, fmt.Errorf("building the segment engine: %w", err)
	}
	st, err := openStore(ctx, cfg.Store, store.Options{Logger: log, Now: opts.StoreNow, Survivorship: cfg.SurvivorshipPolicy()})
	if err != nil {
		return nil, err
	}
	app := &App{Config: cfg, Log: log, Store: st, Engine: eng, Adapters: map[string]adapter.Adapter{}, opts: opts,
		Health: health.New(health.Options{Logger: log.With("component", "health")}, enabledPlatforms(cfg)...)}
	var platforms []*pipeline.Platform
	for name, sec := range cfg.Platforms {
		if en, ok := sec["enabled"].(bool); ok && !en {
			continue
		}
		f, ok := factories[name]
		if !ok {
			app.Close(ctx)
			return nil, fmt.Errorf("platform %q has no built-in adapter", name)
		}
		a := f(log.With("platform", name))
		if o, ok := a.(adapter.Observable); ok {
			var next adapter.HTTPObserver
			if opts.ObserveHTTP != nil {
				next = opts.ObserveHTTP(name)
			}
			o.ObserveHTTP(app.Health.Observer(name, next))
		}
		pl, err := configure(ctx, name, a, WithoutEnabled(sec))
		if err != nil {
			app.Close(ctx)
			return nil, err
		}
		app.Adapters[name] = pl.Adapter
		platforms = append(platforms, pl)
	}
	for i, pc := range cfg.Plugins {
		spec := PluginSpec(pc)
		pl, err := pluginhost.Open(ctx, spec, pluginhost.Options{Logger: log})
		if err != nil {
			app.Close(ctx)
			return nil, fmt.Errorf("starting plugins[%d] (%s): %w", i, pc.Name, err)
		}
		app.Adapters[pc.Name] = pl // registered first, so Close stops it even if configuring fails
		var next adapter.HTTPObserver
		if opts.ObserveHTTP != nil {
			next = opts.ObserveHTTP(pc.Name)
		}
		pl.ObserveHTTP(app.Health.Observer(pc.Name, next)) // protocol 1.1 plugins report their requests

		p, err := configure(ctx, pc.Name, pl, pc.Config)
		if err != nil {
			app.Close(ctx)
			return nil, err
		}
		platforms = append(platforms, p)
	}
	outbox, err := openOutbound(ctx, cfg, st, log)
	if err != nil {
		app.Close(ctx)
		return nil, err
	}
	app.Outbound = outbox
	app.Pipeline = pipeline.New(pipeline.Options{
		Store: st, Engine: eng, Platforms: platforms, Logger: log, Currency: Currency, Hooks: opts.Hooks, Now: opts.PipelineNow,
	})
	return app, nil
}

// enabledPlatforms names every platform Open starts: the enabled
// built-in sections and the plugins.
func enabledPlatforms(cfg *config.Loaded) []string {
	var names []string
	for name, sec := range cfg.Platforms {
		if en, ok := sec["enabled"].(bool); !ok || en {
			names = append(names, name)
		}
	}
	for _, pc := range cfg.Plugins {
		names = append(names, pc.Name)
	}
	return names
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

// WithoutEnabled returns a platform section without the host's "enabled"
// switch, which the adapter does not know.
func WithoutEnabled(sec adapter.Config) adapter.Config {
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
	return openStore(ctx, sc, store.Options{Logger: log})
}

// openStore opens the configured store with opts (Open passes the
// configured survivorship policy, which only writes use).
func openStore(ctx context.Context, sc config.Store, opts store.Options) (store.Store, error) {
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
func (a *App) Close(ctx context.Context) {
	for name, ad := range a.Adapters {
		if err := ad.Close(ctx); err != nil {
			a.Log.Warn("closing adapter", "platform", name, "err", err)
		}
	}
	if a.Store != nil {
		if err := a.Store.Close(); err != nil {
			a.Log.Warn("closing store", "err", err)
		}
	}
}
