package csvfolder

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Columns of the memberships file besides one per property target.
const (
	idColumn    = "customer_id"
	listsColumn = "lists"
)

// memberships is the memberships file in memory.
type memberships struct {
	header []string
	rows   map[string][]string // by customer id
	order  []string            // customer ids in file order
}

func readMemberships(path string) (*memberships, error) {
	t, err := readTable(path)
	if err != nil {
		return nil, err
	}
	m := &memberships{header: t.header, rows: map[string][]string{}}
	if len(m.header) == 0 {
		m.header = []string{idColumn, listsColumn}
	}
	if m.header[0] != idColumn {
		return nil, fmt.Errorf("reading %s: first column is %q, want %q", path, m.header[0], idColumn)
	}
	for _, rec := range t.rows {
		id := strings.TrimSpace(rec[0])
		full := make([]string, len(m.header))
		copy(full, rec)
		if _, dup := m.rows[id]; !dup {
			m.order = append(m.order, id)
		}
		m.rows[id] = full
	}
	return m, nil
}

func (m *memberships) column(name string) (int, bool) {
	i := slices.Index(m.header, name)
	if i >= 0 {
		return i, false
	}
	m.header = append(m.header, name)
	for id, r := range m.rows {
		m.rows[id] = append(r, "")
	}
	return len(m.header) - 1, true
}

// write replaces path atomically.
func (m *memberships) write(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".memberships-*.csv")
	if err != nil {
		return fmt.Errorf("creating memberships file: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := csv.NewWriter(tmp)
	_ = w.Write(m.header)
	for _, id := range m.order {
		_ = w.Write(m.rows[id])
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing memberships file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing memberships file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing memberships file: %w", err)
	}
	return nil
}

func columnName(t adapter.Target) string {
	n := t.Name
	if n == "" {
		n = t.Key
	}
	n = strings.ToLower(strings.TrimSpace(n))
	return strings.Map(func(r rune) rune {
		if r == ',' || r == '\n' || r == '\r' || r == '"' {
			return '_'
		}
		return r
	}, n)
}

// EnsureTargets implements adapter.Adapter: a property target is a column
// of the memberships file (created when missing); a list target is a
// label written into the lists column and needs no creation.
func (a *Adapter) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	m, err := readMemberships(cfg.MembershipsFile)
	if err != nil {
		return nil, adapter.Permanent(fmt.Errorf("ensuring targets: %w", err))
	}
	out := make([]adapter.EnsuredTarget, 0, len(targets))
	changed := false
	for _, t := range targets {
		name := columnName(t)
		switch t.Kind {
		case adapter.TargetProperty:
			if name == idColumn || name == listsColumn {
				return nil, adapter.Permanent(fmt.Errorf("ensuring target %q: column name %q is reserved", t.Key, name))
			}
			_, created := m.column(name)
			changed = changed || created
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: name, Created: created})
		case adapter.TargetList:
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: name})
		default:
			return nil, adapter.Permanent(fmt.Errorf("ensuring target %q: kind %q: %w", t.Key, t.Kind, adapter.ErrUnsupported))
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if changed {
		if err := m.write(cfg.MembershipsFile); err != nil {
			return nil, adapter.Retryable(fmt.Errorf("ensuring targets: %w", err))
		}
	}
	return out, nil
}

// Push implements adapter.Adapter. Items for customers missing from
// customers.csv, or naming targets that were not ensured, fail
// permanently on their own; the rest are written in one atomic replace.
func (a *Adapter) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	rows, err := a.load("contact")
	if err != nil {
		return nil, fmt.Errorf("pushing memberships: %w", err)
	}
	known := make(map[string]bool, len(rows))
	for _, r := range rows {
		if r.reject == nil {
			known[r.id] = true
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	m, err := readMemberships(cfg.MembershipsFile)
	if err != nil {
		return nil, adapter.Permanent(fmt.Errorf("pushing memberships: %w", err))
	}
	results := make([]adapter.PushResult, 0, len(req.Items))
	fail := func(id, reason string) {
		results = append(results, adapter.PushResult{ID: id, Status: adapter.PushPermanent, Reason: reason})
	}
	lists, _ := m.column(listsColumn)
items:
	for _, it := range req.Items {
		if !known[it.Ref.ID] {
			fail(it.ID, fmt.Sprintf("customer %q is not in %s", it.Ref.ID, CustomersFile))
			continue
		}
		cols := map[int]string{}
		for key, v := range it.Properties {
			name, ok := req.Targets[key]
			if !ok {
				fail(it.ID, fmt.Sprintf("property target %q was not ensured", key))
				continue items
			}
			i, _ := m.column(name)
			cols[i] = v
		}
		var add, remove []string
		for _, key := range it.Add {
			name, ok := req.Targets[key]
			if !ok {
				fail(it.ID, fmt.Sprintf("list target %q was not ensured", key))
				continue items
			}
			add = append(add, name)
		}
		for _, key := range it.Remove {
			name, ok := req.Targets[key]
			if !ok {
				fail(it.ID, fmt.Sprintf("list target %q was not ensured", key))
				continue items
			}
			remove = append(remove, name)
		}
		r, ok := m.rows[it.Ref.ID]
		if !ok {
			r = make([]string, len(m.header))
			r[0] = it.Ref.ID
			m.order = append(m.order, it.Ref.ID)
		}
		for len(r) < len(m.header) {
			r = append(r, "")
		}
		for i, v := range cols {
			r[i] = v
		}
		set := splitList(r[lists])
		set = append(set, add...)
		set = slices.DeleteFunc(set, func(s string) bool { return slices.Contains(remove, s) })
		slices.Sort(set)
		r[lists] = strings.Join(slices.Compact(set), ";")
		m.rows[it.Ref.ID] = r
		results = append(results, adapter.PushResult{ID: it.ID, Status: adapter.PushOK})
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := m.write(cfg.MembershipsFile); err != nil {
		return nil, adapter.Retryable(fmt.Errorf("pushing memberships: %w", err))
	}
	return results, nil
}

// ReadMemberships returns the properties (by column) and lists stored for
// a customer in a memberships file, for tests and tools.
func ReadMemberships(path, customerID string) (props map[string]string, lists []string, err error) {
	m, err := readMemberships(path)
	if err != nil {
		return nil, nil, err
	}
	r, ok := m.rows[customerID]
	if !ok {
		return nil, nil, nil
	}
	props = map[string]string{}
	for i, h := range m.header {
		switch {
		case i == 0:
		case h == listsColumn:
			lists = splitList(r[i])
		case r[i] != "":
			props[h] = r[i]
		}
	}
	return props, lists, nil
}
