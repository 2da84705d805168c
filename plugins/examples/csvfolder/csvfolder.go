package csvfolder

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Name is the adapter's name and the platform of its references.
const Name = "csvfolder"

// Version is the adapter's version.
const Version = "1.0.0"

// Page sizes: the default and the largest page a pull delivers.
const (
	DefaultPageSize = 500
	MaxPageSize     = 10000
)

// Adapter reads and writes a folder of CSV files.
type Adapter struct {
	name string
	mu   sync.Mutex // serialises writes to the memberships file
	cfg  Config
	ok   bool
}

var _ adapter.Adapter = (*Adapter)(nil)

// New returns an unconfigured adapter.
func New() *Adapter { return &Adapter{name: Name} }

// Describe implements adapter.Adapter.
func (a *Adapter) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{
		Name:    Name,
		Version: Version,
		Capabilities: adapter.Capabilities{
			Objects:      []string{domain.ObjectContact, domain.ObjectOrder},
			Incremental:  []string{domain.ObjectContact, domain.ObjectOrder},
			Targets:      []adapter.TargetKind{adapter.TargetProperty, adapter.TargetList},
			Webhooks:     true,
			MaxPushBatch: 1000,
		},
		ConfigSchema: Schema(),
	}, nil
}

// ValidateConfig implements adapter.Adapter; it does no I/O.
func (a *Adapter) ValidateConfig(_ context.Context, cfg adapter.Config) ([]adapter.Diagnostic, error) {
	_, diags := parseConfig(cfg)
	return diags, nil
}

// errNotConfigured is returned by calls before a successful Configure.
var errNotConfigured = errors.New("csvfolder adapter is not configured")

// Configure implements adapter.Adapter.
func (a *Adapter) Configure(_ context.Context, cfg adapter.Config) error {
	c, diags := parseConfig(cfg)
	if len(diags) > 0 {
		errs := make([]error, len(diags))
		for i, d := range diags {
			errs[i] = errors.New(d.String())
		}
		return adapter.Permanent(fmt.Errorf("configuring csvfolder: %w", errors.Join(errs...)))
	}
	if err := checkFolder(c); err != nil {
		return fmt.Errorf("configuring csvfolder: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cfg, a.ok = c, true
	return nil
}

func (a *Adapter) config() (Config, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ok {
		return Config{}, adapter.Permanent(errNotConfigured)
	}
	return a.cfg, nil
}

// Pull implements adapter.Adapter.
func (a *Adapter) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	if _, err := a.config(); err != nil {
		return err
	}
	cur, err := parseCursor(req.Cursor)
	if err != nil {
		return adapter.Permanent(fmt.Errorf("pulling %s: %w", req.Object, err))
	}
	if req.Full {
		cur = cursor{}
	}
	size := req.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	size = min(size, MaxPageSize)
	if err := ctx.Err(); err != nil {
		return err
	}
	rows, err := a.load(req.Object)
	if err != nil {
		return fmt.Errorf("pulling %s: %w", req.Object, err)
	}
	var page adapter.Page
	n := 0
	flush := func(last *row) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		page.Cursor = cursor{updated: last.updated, id: last.id}.String()
		if err := sink(ctx, page); err != nil {
			return fmt.Errorf("delivering %s page: %w", req.Object, err)
		}
		page, n = adapter.Page{}, 0
		return nil
	}
	for i := range rows {
		r := &rows[i]
		if !r.after(cur) {
			continue
		}
		if r.reject != nil {
			page.Quarantined = append(page.Quarantined, *r.reject)
		} else {
			page.Changes = append(page.Changes, r.change)
		}
		if n++; n == size {
			if err := flush(r); err != nil {
				return err
			}
		}
	}
	if n > 0 {
		return flush(&rows[len(rows)-1])
	}
	return nil
}

// Fetch implements adapter.Adapter.
func (a *Adapter) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	if _, err := a.config(); err != nil {
		return nil, err
	}
	rows, err := a.load(req.Object)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", req.Object, err)
	}
	byID := make(map[string]*row, len(rows))
	for i := range rows {
		if rows[i].reject == nil {
			byID[rows[i].id] = &rows[i]
		}
	}
	out := make([]adapter.Change, 0, len(req.IDs))
	for _, id := range req.IDs {
		if r, ok := byID[id]; ok {
			out = append(out, r.change)
			continue
		}
		out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: a.ref(req.Object, id)})
	}
	return out, ctx.Err()
}

// Close implements adapter.Adapter.
func (a *Adapter) Close(context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ok = false
	return nil
}
