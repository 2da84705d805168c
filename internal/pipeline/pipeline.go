// Package pipeline moves data through the connector: it pulls every
// platform into the store, turns the stored profiles into a segment
// dataset, runs the segment engine, diffs the result against the stored
// memberships, computes the write-back each platform needs (only what
// changed, never removing what a person set by hand) and drains the outbox
// through each adapter.
//
// Each step is a method that the application layer (internal/app)
// composes into its use cases; the package owns no goroutines.
package pipeline

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Platform is one configured adapter.
type Platform struct {
	Name    string
	Account string
	Adapter adapter.Adapter
	Desc    adapter.Descriptor
}

// Options configure a Pipeline.
type Options struct {
	Store     store.Store
	Engine    *segment.Engine
	Platforms []*Platform
	Logger    *slog.Logger
	// Currency of the segment dataset (default USD).
	Currency string
	// Now is the clock for as-of times and retry schedules (default time.Now).
	Now func() time.Time
	// Hooks observe the pipeline for metrics; nil fields are skipped.
	Hooks Hooks
}

// Hooks observe pipeline activity.
type Hooks struct {
	OnPulled func(platform, object string, records int)
	OnPushed func(platform string, status adapter.PushStatus, n int)
}

// Pipeline is safe for concurrent use.
type Pipeline struct {
	store     store.Store
	engine    *segment.Engine
	platforms map[string]*Platform
	names     []string
	log       *slog.Logger
	currency  string
	now       func() time.Time
	hooks     Hooks

	segMu sync.Mutex // held by whoever plans and applies (see Serialize)

	viewMu    sync.Mutex // held through loading the engine's input
	view      *view      // what the last recompute loaded (view.go)
	loadStats LoadStats  // how it loaded it
	// inputVersion is segment.InputVersion of the currency: the version
	// of the inputs saved in the store (saved.go).
	inputVersion uint64

	memberMu sync.Mutex  // held while a full plan reads members
	members  *memberView // everyone's memberships (members.go)

	settleMu sync.Mutex
	settled  map[string]*settledRecords // platform → the last plan's (settled.go)
	hashSeed maphash.Seed
	// recordSeeds seed settledRecords' record ids.
	recordSeeds [2]maphash.Seed
	// ownershipReads counts the records whose ownership the last Plan read.
	ownershipReads atomic.Int64

	mu      sync.Mutex
	last    *segment.Result     // the last full run
	targets map[string]*targets // platform → ensured write-back targets
}

// New builds a Pipeline.
func New(o Options) *Pipeline {
	p := &Pipeline{
		store: o.Store, engine: o.Engine, log: o.Logger, currency: o.Currency, now: o.Now, hooks: o.Hooks,
		platforms: map[string]*Platform{}, targets: map[string]*targets{},
		settled: map[string]*settledRecords{}, hashSeed: maphash.MakeSeed(),
		recordSeeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.currency == "" {
		p.currency = "USD"
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.inputVersion = segment.InputVersion(p.currency)
	for _, pl := range o.Platforms {
		p.platforms[pl.Name] = pl
		p.names = append(p.names, pl.Name)
	}
	sort.Strings(p.names)
	return p
}

// Serialize takes the in-process lock around planning and applying
// segments and returns its release. Replicas add a database lock on top.
func (p *Pipeline) Serialize() (unlock func()) {
	p.segMu.Lock()
	return p.segMu.Unlock
}

// Platforms returns the configured platform names, sorted.
func (p *Pipeline) Platforms() []string { return p.names }

// Platform returns one configured platform.
func (p *Pipeline) Platform(name string) (*Platform, error) {
	pl, ok := p.platforms[name]
	if !ok {
		return nil, fmt.Errorf("platform %q is not configured", name)
	}
	return pl, nil
}

// TargetIDs returns the platform ids of the write-back targets this
// process has ensured on a platform, by target key.
func (p *Pipeline) TargetIDs(platform string) map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.targets[platform]; t != nil {
		return t.ensured()
	}
	return map[string]string{}
}

// Store returns the pipeline's store.
func (p *Pipeline) Store() store.Store { return p.store }

// LastResult returns the last full segment run, or nil.
func (p *Pipeline) LastResult() *segment.Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

func (p *Pipeline) setLast(r *segment.Result) {
	p.mu.Lock()
	p.last = r
	p.mu.Unlock()
}

// Context helpers keep cancellation visible in errors.
func ctxErr(ctx context.Context, what string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
