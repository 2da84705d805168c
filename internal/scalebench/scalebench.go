// Package scalebench measures the whole pipeline at a given number of
// customers: it generates a business with the sandbox's seeded generator,
// serves it from the sandbox's fake platforms on loopback (or, to reach a
// million customers, from memory platforms without HTTP: memory.go), and
// times each phase of the connector's work against a fresh store (SQLite
// or PostgreSQL): filling the store by a full sync, loading it, the segment
// engine alone, a full recompute, the first plan, applying it (recording
// and writing back), the plan after the write-back, and a plan after 1%
// of customers changed.
//
// Each phase reports wall time, the CPU time the process spent (user +
// system, from getrusage) and its peak resident set, and its CPU time as
// a multiple of the engine's alone in the same run, the figure that stays
// meaningful on a shared machine. The fakes run in the same process, so
// the fill, apply and change phases include their share of serving the
// requests (memory platforms cost next to nothing); a PostgreSQL
// server's own CPU time and memory are not counted.
package scalebench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/segconn/connector/connectors"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// seedLag is how long before the first sync the generated history ends;
// past any platform's incremental overlap window.
const seedLag = 15 * time.Minute

// Options configure Run.
type Options struct {
	Customers int    // people the generator makes (required)
	Seed      uint64 // generator seed (default 1)
	// Store is sqlite (default) or postgres.
	Store string
	// Dir holds the SQLite file (required for sqlite).
	Dir string
	// DSN and Schema say where the PostgreSQL store goes; the schema
	// should be empty or new.
	DSN, Schema string
	// ChangedShare is the share of WooCommerce customers given a new
	// order before the steady-state plan (default 0.01).
	ChangedShare float64
	// Platforms is fakes (default): the sandbox's fake platforms on
	// loopback, or memory: the generated records handed to the connector
	// without HTTP, every write-back taken at once (see memory.go), which
	// reaches a million customers on one machine.
	Platforms string
	// PurchaseRate multiplies every customer's mean purchase rate (default
	// 1: about 2.4 orders a customer over the three years generated).
	PurchaseRate float64
	Logger       *slog.Logger
	// ProfileDir, when set, receives a CPU profile of each phase,
	// <phase>.pprof, and the heap live as it ends, <phase>.heap, for go
	// tool pprof.
	ProfileDir string
	// OnPhase, when set, is called as each phase ends.
	OnPhase func(Phase)
}

// Phase is one measured phase.
type Phase struct {
	Phase     string  `json:"phase"`
	Store     string  `json:"store"`
	Customers int     `json:"customers"`
	WallS     float64 `json:"wall_s"`
	CPUS      float64 `json:"cpu_s"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	// EngineCPUS is the engine's CPU time alone in the same run.
	EngineCPUS float64 `json:"engine_cpu_s"`
	// Detail says what the phase did (records, changes, items queued).
	Detail string `json:"detail,omitempty"`
}

// Ratio is the phase's CPU time over the engine's alone.
func (p Phase) Ratio() float64 {
	if p.EngineCPUS <= 0 {
		return 0
	}
	return p.CPUS / p.EngineCPUS
}

// Report is a whole run.
type Report struct {
	Customers int     `json:"customers"`
	Profiles  int     `json:"profiles"`
	Store     string  `json:"store"`
	Phases    []Phase `json:"phases"`
	// PeakPerPhase is false when the peak RSS could not be reset between
	// phases: each figure is then the peak since the process started.
	PeakPerPhase bool `json:"peak_per_phase"`
}

// Run generates the business, runs every phase and returns the report.
func Run(ctx context.Context, o Options) (*Report, error) {
	env, err := start(ctx, &o)
	if err != nil {
		return nil, err
	}
	defer env.close(ctx)
	r := &runner{o: o, rep: &Report{Customers: o.Customers, Store: o.Store, PeakPerPhase: true}}
	err = r.phases(ctx, env)
	// The phases finished before an error or an interrupt are kept, with
	// the engine's CPU time when its phase was reached.
	for i := range r.rep.Phases {
		r.rep.Phases[i].EngineCPUS = r.engineCPU
	}
	return r.rep, err
}

// env is the generated business, served by the sandbox's fakes (sb) or
// from memory (mem), and a connector pointed at it, with an empty store.
type env struct {
	sb   *sandbox.Sandbox
	mem  *memBusiness
	app  *app.App
	asOf time.Time // when every plan is made
}

func (e *env) close(ctx context.Context) {
	if e.app != nil {
		e.app.Close(context.WithoutCancel(ctx))
	}
	if e.sb != nil {
		e.sb.Close()
	}
}

// start generates the business, serves it (from the fakes or from
// memory) and opens the connector against a new store.
func start(ctx context.Context, o *Options) (*env, error) {
	if o.Customers <= 0 {
		return nil, errors.New("scale benchmark: the number of customers must be positive")
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.ChangedShare <= 0 {
		o.ChangedShare = 0.01
	}
	if o.PurchaseRate < 0 {
		return nil, fmt.Errorf("scale benchmark: a purchase rate of %v; it must be positive", o.PurchaseRate)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var params sandbox.Params
	if o.PurchaseRate > 0 {
		params.Alpha = sandbox.DefaultParams().Alpha / o.PurchaseRate
	}
	e := &env{}
	var l *config.Loaded
	factories := map[string]app.Factory{}
	switch o.Platforms {
	case "", "fakes":
		o.Platforms = "fakes"
		var err error
		if l, err = e.startFakes(ctx, o, params); err != nil {
			return nil, err
		}
		for n, f := range connectors.Builtin() {
			factories[n] = app.Factory(f)
		}
	case "memory":
		var err error
		if l, err = e.startMemory(o, params); err != nil {
			return nil, err
		}
		for n, f := range connectors.Builtin() {
			factories[n] = func(log *slog.Logger) adapter.Adapter { return e.mem.adapter(n, f(log)) }
		}
	default:
		return nil, fmt.Errorf("scale benchmark: unknown platforms %q (want fakes or memory)", o.Platforms)
	}
	if err := storeConfig(o, l); err != nil {
		e.close(ctx)
		return nil, err
	}
	if e.sb != nil {
		defs, err := app.SegmentDefinitions(l)
		if err != nil {
			e.close(ctx)
			return nil, err
		}
		e.sb.PrepareWriteback(defs)
	}
	a, err := app.Open(ctx, l, o.Logger, factories, app.Options{})
	if err != nil {
		e.close(ctx)
		return nil, fmt.Errorf("opening the connector: %w", err)
	}
	e.app = a
	return e, nil
}

// startFakes generates the business and serves it from the sandbox's fake
// platforms on loopback.
func (e *env) startFakes(ctx context.Context, o *Options, params sandbox.Params) (*config.Loaded, error) {
	// The history ends seedLag ago, when the fakes are seeded: a shop's
	// records were last modified before its first sync, not inside the
	// overlap window an incremental sweep reaches back over (with every
	// record stamped at the instant of the first sweep, the next
	// incremental sync would pull the whole history again). The fakes'
	// clock then runs on real time, so the change phase's new orders are
	// stamped now. Every plan is made a day after the history ends, so
	// the only difference between the first plan and the steady-state one
	// is the new orders.
	var seeded atomic.Bool
	clock := func() time.Time {
		if seeded.Load() {
			return time.Now()
		}
		return time.Now().Add(-seedLag)
	}
	born := clock().UTC().Truncate(time.Minute)
	e.asOf = born.Add(24 * time.Hour)
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: o.Seed, Customers: o.Customers, AsOf: born, HubSpotTier: "enterprise", Now: clock, Params: params})
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox with %d customers: %w", o.Customers, err)
	}
	seeded.Store(true)
	e.sb = sb
	return sb.ConnectorConfig(o.Dir), nil
}

// startMemory generates the business and files it on memory platforms.
func (e *env) startMemory(o *Options, params sandbox.Params) (*config.Loaded, error) {
	born := time.Now().Add(-seedLag).UTC().Truncate(time.Minute)
	e.asOf = born.Add(24 * time.Hour)
	d, err := sandbox.Generate(sandbox.GenOptions{Seed: o.Seed, Customers: o.Customers, AsOf: born, Params: params})
	if err != nil {
		return nil, fmt.Errorf("generating %d customers: %w", o.Customers, err)
	}
	e.mem = newMemBusiness(d, int(float64(o.Customers)*o.ChangedShare))
	cfg := config.Defaults()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Currency = d.Currency
	cfg.Platforms = map[string]adapter.Config{}
	for name := range e.mem.platforms {
		cfg.Platforms[name] = adapter.Config{}
	}
	return &config.Loaded{Config: cfg}, nil
}

// storeConfig points the configuration at the store the options name.
func storeConfig(o *Options, l *config.Loaded) error {
	switch o.Store {
	case "", "sqlite":
		o.Store = "sqlite"
		if o.Dir == "" {
			return errors.New("scale benchmark: a directory for the SQLite store is required")
		}
		l.Config.Store.Path = filepath.Join(o.Dir, "scale.db")
	case "postgres":
		if o.DSN == "" || o.Schema == "" {
			return errors.New("scale benchmark: a PostgreSQL store needs a connection string and a new schema")
		}
		l.Config.Store.Driver, l.Config.Store.DSN, l.Config.Store.Schema = "postgres", o.DSN, o.Schema
	default:
		return fmt.Errorf("scale benchmark: unknown store %q (want sqlite or postgres)", o.Store)
	}
	return nil
}

type runner struct {
	o         Options
	rep       *Report
	engineCPU float64
}

// measure runs fn as one phase and records it.
func (r *runner) measure(name string, fn func() (string, error)) error {
	if !resetPeakRSS() {
		r.rep.PeakPerPhase = false
	}
	before, err := readUsage()
	if err != nil {
		return fmt.Errorf("reading resource usage: %w", err)
	}
	stopProfile, err := r.startProfile(name)
	if err != nil {
		return err
	}
	start := time.Now()
	detail, err := fn()
	wall := time.Since(start)
	stopProfile()
	if err != nil {
		return fmt.Errorf("phase %s: %w", name, err)
	}
	after, err := readUsage()
	if err != nil {
		return fmt.Errorf("reading resource usage: %w", err)
	}
	if err := r.writeHeapProfile(name); err != nil {
		return err
	}
	ph := Phase{
		Phase: name, Store: r.o.Store, Customers: r.o.Customers, WallS: wall.Seconds(), CPUS: (after.cpu - before.cpu).Seconds(),
		PeakRSSMB: float64(after.maxRSS) / (1 << 20), Detail: detail,
	}
	if name == "engine" {
		r.engineCPU = ph.CPUS
	}
	r.rep.Phases = append(r.rep.Phases, ph)
	if r.o.OnPhase != nil {
		ph.EngineCPUS = r.engineCPU
		r.o.OnPhase(ph)
	}
	return nil
}

// startProfile starts a CPU profile of the phase when a profile
// directory is set; the function returned stops it.
func (r *runner) startProfile(phase string) (stop func(), err error) {
	if r.o.ProfileDir == "" {
		return func() {}, nil
	}
	f, err := os.Create(filepath.Join(r.o.ProfileDir, phase+".pprof"))
	if err != nil {
		return nil, fmt.Errorf("creating the CPU profile of %s: %w", phase, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile of %s: %w", phase, err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			r.o.Logger.Warn("closing a CPU profile", "phase", phase, "error", err)
		}
	}, nil
}

// writeHeapProfile writes what is live on the heap as the phase ends,
// <phase>.heap, when a profile directory is set; after the phase's
// resource usage is read, so the collection it forces is not counted.
func (r *runner) writeHeapProfile(phase string) error {
	if r.o.ProfileDir == "" {
		return nil
	}
	runtime.GC()
	f, err := os.Create(filepath.Join(r.o.ProfileDir, phase+".heap"))
	if err != nil {
		return fmt.Errorf("creating the heap profile of %s: %w", phase, err)
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("writing the heap profile of %s: %w", phase, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing the heap profile of %s: %w", phase, err)
	}
	return nil
}

func (r *runner) phases(ctx context.Context, e *env) error {
	a, asOf := e.app, e.asOf
	err := r.measure("fill", func() (string, error) {
		stats, err := a.SyncAll(ctx, nil, true)
		n := 0
		for _, s := range stats {
			for _, c := range s.Records {
				n += c
			}
		}
		return fmt.Sprintf("%d records pulled", n), err
	})
	if err != nil {
		return err
	}
	if e.mem != nil {
		// What later pulls do not read again is given back, so the
		// phases after this one measure the connector, not the
		// generated business.
		if err := e.mem.forget(ctx); err != nil {
			return err
		}
		runtime.GC()
		debug.FreeOSMemory()
	}
	if r.rep.Profiles, err = a.Store.CountProfiles(ctx); err != nil {
		return fmt.Errorf("counting profiles: %w", err)
	}
	var b *segment.Builder
	err = r.measure("load", func() (string, error) {
		b = segment.NewBuilder("USD")
		orders := 0
		err := a.Store.EachProfile(ctx, func(po store.ProfileOrders) error {
			b.Add(&po.Profile, po.Orders)
			orders += len(po.Orders)
			return nil
		})
		return fmt.Sprintf("%d profiles, %d orders", r.rep.Profiles, orders), err
	})
	if err != nil {
		return err
	}
	err = r.measure("engine", func() (string, error) {
		_, err := a.Engine.Run(ctx, b.Dataset(), asOf)
		return "", err
	})
	if err != nil {
		return err
	}
	b = nil
	if err := r.measure("recompute", func() (string, error) {
		_, err := a.Pipeline.Recompute(ctx, asOf)
		return "", err
	}); err != nil {
		return err
	}
	// A restart: a new pipeline on the same store, with nothing loaded,
	// reads the inputs the recompute saved.
	if err := r.measure("restart_recompute", func() (string, error) {
		return restart(ctx, a, asOf)
	}); err != nil {
		return err
	}
	var plan *pipeline.Plan
	if err := r.measure("plan_from_empty", func() (string, error) {
		var err error
		plan, err = a.Pipeline.Plan(ctx, asOf)
		return planDetail(plan), err
	}); err != nil {
		return err
	}
	if err := r.measure("apply", func() (string, error) {
		return apply(ctx, a, plan)
	}); err != nil {
		return err
	}
	plan = nil
	// What the daemon's next plan after a write-back costs: every
	// record's ownership was just written, so it is all read again.
	if err := r.measure("settle_plan", func() (string, error) {
		p, err := a.Pipeline.Plan(ctx, asOf)
		return planDetail(p), err
	}); err != nil {
		return err
	}
	if err := r.measure("change", func() (string, error) {
		return change(ctx, e, int(float64(r.o.Customers)*r.o.ChangedShare))
	}); err != nil {
		return err
	}
	if err := r.measure("steady_plan", func() (string, error) {
		p, err := a.Pipeline.Plan(ctx, asOf)
		return planDetail(p), err
	}); err != nil {
		return err
	}
	return nil
}

// restart recomputes with a new pipeline, as a new process would, and
// says how it loaded its input.
func restart(ctx context.Context, a *app.App, asOf time.Time) (string, error) {
	var platforms []*pipeline.Platform
	for _, name := range a.Pipeline.Platforms() {
		pl, err := a.Pipeline.Platform(name)
		if err != nil {
			return "", err
		}
		platforms = append(platforms, pl)
	}
	p := pipeline.New(pipeline.Options{Store: a.Store, Engine: a.Engine, Platforms: platforms, Currency: a.Currency()})
	if _, err := p.Recompute(ctx, asOf); err != nil {
		return "", err
	}
	st := p.LastLoad()
	return fmt.Sprintf("%d profiles, %d from saved inputs", st.Profiles, st.Saved), nil
}

func planDetail(p *pipeline.Plan) string {
	if p == nil {
		return ""
	}
	items := 0
	for _, pp := range p.Platforms {
		items += pp.Queued()
	}
	return fmt.Sprintf("%d membership changes, %d write-back items", len(p.Memberships), items)
}

// apply records the plan, creating its targets first, and drains every
// platform's write-back into the fakes.
func apply(ctx context.Context, a *app.App, plan *pipeline.Plan) (string, error) {
	if err := a.Pipeline.EnsureTargets(ctx, plan); err != nil {
		return "", err
	}
	if err := a.Apply(ctx, plan); err != nil {
		return "", err
	}
	pushed := 0
	for _, name := range a.Pipeline.Platforms() {
		st, err := a.Pipeline.Drain(ctx, name)
		if err != nil {
			return "", err
		}
		pushed += st.OK
	}
	return fmt.Sprintf("%d records written back", pushed), nil
}

// change gives n WooCommerce customers a new order, as a day's trade
// would, and pulls it with an incremental sync.
func change(ctx context.Context, e *env, n int) (string, error) {
	a := e.app
	if e.mem != nil {
		n = e.mem.newOrders(max(1, n), time.Now().UTC())
		if _, err := a.SyncAll(ctx, nil, false); err != nil {
			return "", err
		}
		return fmt.Sprintf("%d customers given a new order", n), nil
	}
	sb := e.sb
	ids := sb.WooFake.CustomerIDs()
	n = min(max(1, n), len(ids))
	step := max(1, len(ids)/n)
	for i := 0; i < n; i++ {
		c, ok := sb.WooFake.Customer(ids[(i*step)%len(ids)])
		if !ok {
			continue
		}
		sb.NewWooOrder(c.ID, c.Email, []domain.LineItem{{SKU: "SCALE-1", Name: "Gift box", Category: "gifts", Quantity: int64(1 + i%4),
			UnitPrice: domain.Money{Amount: int64(25_00 + (i%20)*10_00), Currency: "USD"}}}, "desktop")
	}
	if _, err := a.SyncAll(ctx, nil, false); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d customers given a new order", n), nil
}
