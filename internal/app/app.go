// Package app is the connector's application layer: it opens the store,
// configures every platform adapter, builds the segment engine and the
// pipeline (Open), and owns each use case once: sync, plan, apply (which
// records a plan and relays its segment events to the outbound webhooks
// under the segment lock), the full cycle, the webhook path, explain and
// status. The CLI and the daemon both call it; it knows nothing of HTTP,
// flags or loops, and no goroutine it starts outlives the call.
//
// Each configured instance (a section under platforms, or a plugin on its
// own) gets its own adapter, keyed by the instance's name everywhere: in
// Adapters, the pipeline, the store, the health tracker and the metrics.
// An adapter whose records carry another name (two WooCommerce shops both
// stamp "woocommerce") is wrapped so that what it reads carries the
// instance's name and what it is handed carries its own (instance.go).
package app

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/postgres"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

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

// Currency is the ISO 4217 currency segment amounts are in (the
// configuration's currency, default USD); orders in another currency are
// left out of them and counted in the run's warnings.
func (a *App) Currency() string {
	if c := strings.ToUpper(strings.TrimSpace(a.Config.Currency)); c != "" {
		return c
	}
	return "USD"
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
	if _, err := SegmentDefinitions(cfg); err != nil {
		return nil, err
	}
	st, err := openStore(ctx, cfg.Store, store.Options{Logger: log, Now: opts.StoreNow, Survivorship: cfg.SurvivorshipPolicy()})
	if err != nil {
		return nil, err
	}
	// The configured definitions with those saved by the segment builder.
	defs, err := StoredSegments(ctx, cfg, st)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	eng, err := segment.NewEngine(defs, segment.Options{})
	if err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("building the segment engine: %w", err)
	}
	app := &App{Config: cfg, Log: log, Store: st, Engine: eng, Adapters: map[string]adapter.Adapter{}, opts: opts,
		Health: health.New(health.Options{Logger: log.With("component", "health")}, enabledPlatforms(cfg)...)}
	var platforms []*pipeline.Platform
	for _, in := range cfg.Instances() {
		pl, err := app.openInstance(ctx, in, factories)
		if err != nil {
			app.Close(ctx)
			return nil, err
		}
		platforms = append(platforms, pl)
	}
	outbox, err := openOutbound(ctx, cfg, st, log)
	if err != nil {
		app.Close(ctx)
		return nil, err
	}
	app.Outbound = outbox
	app.Pipeline = pipeline.New(pipeline.Options{
		Store: st, Engine: eng, Platforms: platforms, Logger: log, Currency: app.Currency(), Hooks: opts.Hooks, Now: opts.PipelineNow,
	})
	return app, nil
}

// enabledPlatforms names every instance Open starts: the enabled
// sections under platforms and the plugins that run on their own.
func enabledPlatforms(cfg *config.Loaded) []string { return cfg.InstanceNames() }

// openInstance makes, observes and configures one instance's adapter: a
// built-in (factories) or a plugin started for it. The adapter runs
// under the instance's name (asInstance), so what it reads is keyed by
// the instance.
func (app *App) openInstance(ctx context.Context, in config.Instance, factories map[string]Factory) (*pipeline.Platform, error) {
	log := app.Log.With("platform", in.Name)
	var a adapter.Adapter
	switch {
	case in.Plugin != nil:
		pl, err := pluginhost.Open(ctx, PluginSpec(*in.Plugin), pluginhost.Options{Logger: app.Log})
		if err != nil {
			return nil, fmt.Errorf("starting plugin %s for %s: %w", in.Plugin.Name, in.Name, err)
		}
		app.Adapters[in.Name] = pl // registered first, so Close stops it even if configuring fails
		a = pl
	case factories[in.Adapter] != nil:
		a = factories[in.Adapter](log)
	default:
		return nil, fmt.Errorf("%s: no built-in adapter or plugin is named %q", in.Path, in.Adapter)
	}
	if o, ok := a.(adapter.Observable); ok { // protocol 1.1 plugins report their requests too
		var next adapter.HTTPObserver
		if app.opts.ObserveHTTP != nil {
			next = app.opts.ObserveHTTP(in.Name)
		}
		o.ObserveHTTP(app.Health.Observer(in.Name, next))
	}
	desc, err := a.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("describing %s: %w", in.Name, err)
	}
	a = asInstance(a, in.Name, desc)
	app.Adapters[in.Name] = a
	if err := a.Configure(ctx, in.Section); err != nil {
		return nil, fmt.Errorf("configuring %s: %w", in.Name, err)
	}
	account, _ := in.Section["account"].(string)
	return &pipeline.Platform{Name: in.Name, Account: account, Adapter: a, Desc: desc}, nil
}

// OpenStore opens the configured store.
func OpenStore(ctx context.Context, sc config.Store, log *slog.Logger) (store.Store, error) {
	return openStore(ctx, sc, store.Options{Logger: log})
}

// openStore opens the configured store with opts (Open passes the
// configured survivorship policy, which only writes use).
func openStore(ctx context.Context, sc config.Store, opts store.Options) (store.Store, error) {
	if sc.SuppressionSecret != "" {
		opts.SuppressionKey = []byte(sc.SuppressionSecret)
	}
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
