package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
)

// Segment definitions can also be written with the web app's segment
// builder. They are kept in the store (its segment_definitions table),
// with the configuration as the default: a stored definition of the same
// name replaces the configured one, others are added to the configured
// set. The store, not the file, because the file is the operator's (its
// comments, its layout, perhaps read-only or templated by a deployment
// tool), because every replica reads the same database, and because a
// definition saved there is recorded with who saved it and when. A
// running connector keeps the engine it started with (its cut points and
// fitted models belong to that set, and every replica must change at the
// same moment), so a saved definition is used from the connector's next
// start; the builder's dry run shows its size over the current data at
// once.

// BuilderDefinition is what the segment builder writes: a rule segment.
type BuilderDefinition struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Expr        string  `json:"expr"`
	Holdout     float64 `json:"holdout_percent,omitempty"`
}

// Raw is the definition as the configuration would hold it.
func (d BuilderDefinition) Raw() map[string]any {
	m := map[string]any{"name": d.Name, "kind": string(segment.KindRule), "params": map[string]any{"expr": d.Expr}}
	if d.Description != "" {
		m["description"] = d.Description
	}
	if d.Holdout > 0 {
		m["holdout_percent"] = d.Holdout
	}
	return m
}

// StoredSegments merges the configured definitions (or the default set)
// with those stored by the segment builder, and parses them.
func StoredSegments(ctx context.Context, cfg *config.Loaded, st store.WebState) ([]segment.Definition, error) {
	raw, err := mergedRaw(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	defs, err := segment.ParseDefinitions(raw)
	if err != nil {
		return nil, fmt.Errorf("the stored segment definitions: %w", problemsOf(err))
	}
	expandWriteback(defs, cfg.InstancesByAdapter())
	return defs, nil
}

func mergedRaw(ctx context.Context, cfg *config.Loaded, st store.WebState) ([]any, error) {
	var raw []any
	for _, m := range cfg.Segments {
		raw = append(raw, m)
	}
	if len(raw) == 0 {
		raw = DefaultSegments(enabledPlatformNames(cfg))
	}
	stored, err := st.Definitions(ctx)
	if err != nil {
		return nil, err
	}
	for _, sd := range stored {
		var m map[string]any
		if err := json.Unmarshal(sd.Definition, &m); err != nil {
			return nil, fmt.Errorf("decoding stored segment definition %s: %w", sd.Name, err)
		}
		replaced := false
		for i, r := range raw {
			if rm, ok := r.(map[string]any); ok && rm["name"] == sd.Name {
				raw[i], replaced = m, true
			}
		}
		if !replaced {
			raw = append(raw, m)
		}
	}
	return raw, nil
}

// CheckDefinition validates a builder definition on its own and beside
// the others (a name may not take a non-rule definition's place). It
// returns the parsed definition, or the problems with their paths.
func (a *App) CheckDefinition(ctx context.Context, d BuilderDefinition) (segment.Definition, config.Problems) {
	defs, err := segment.ParseDefinitions([]any{d.Raw()})
	if err != nil {
		ps := problemsOf(err)
		for i := range ps {
			ps[i].Path = strings.TrimPrefix(strings.TrimPrefix(ps[i].Path, "segments[0]"), ".")
			if ps[i].Path == "params.expr" {
				ps[i].Path = "expr"
			}
		}
		return segment.Definition{}, ps
	}
	raw, err := mergedRaw(ctx, a.Config, a.Store)
	if err != nil {
		return defs[0], config.Problems{{Path: "name", Message: err.Error()}}
	}
	for _, r := range raw {
		if rm, ok := r.(map[string]any); ok && rm["name"] == d.Name && rm["kind"] != string(segment.KindRule) {
			return defs[0], config.Problems{{Path: "name", Message: fmt.Sprintf("%q is a %v segment; the builder writes rule segments only", d.Name, rm["kind"])}}
		}
	}
	return defs[0], nil
}

// DryRun is the size a rule segment would have now.
type DryRun struct {
	AsOf     time.Time `json:"as_of"`
	Profiles int       `json:"profiles"`
	Size     int       `json:"size"`
	Share    float64   `json:"share"`
	// Sample names a few of its members (profile ids).
	Sample []string `json:"sample"`
}

// ErrInvalidDefinition wraps the problems of a definition that does not
// validate.
var ErrInvalidDefinition = errors.New("the definition is not valid")

// DryRunDefinition computes a builder definition over every stored
// profile as of asOf, recording nothing.
func (a *App) DryRunDefinition(ctx context.Context, d BuilderDefinition, asOf time.Time) (DryRun, error) {
	def, ps := a.CheckDefinition(ctx, d)
	if len(ps) > 0 {
		return DryRun{}, fmt.Errorf("%w: %w", ErrInvalidDefinition, ps)
	}
	eng, err := segment.NewEngine([]segment.Definition{def}, segment.Options{})
	if err != nil {
		return DryRun{}, fmt.Errorf("%w: %w", ErrInvalidDefinition, err)
	}
	b := segment.NewBuilder(a.Currency())
	if err := a.Store.EachProfile(ctx, func(po store.ProfileOrders) error {
		b.Add(&po.Profile, po.Orders)
		return nil
	}); err != nil {
		return DryRun{}, fmt.Errorf("loading profiles for the dry run: %w", err)
	}
	res, err := eng.Run(ctx, b.Dataset(), asOf)
	if err != nil {
		return DryRun{}, fmt.Errorf("computing the dry run: %w", err)
	}
	out := DryRun{AsOf: asOf.UTC(), Profiles: res.Len(), Sample: []string{}}
	for i := range res.Len() {
		for _, m := range res.Memberships(i) {
			if m.Segment == def.Name || strings.HasPrefix(m.Segment, def.Name+":") {
				out.Size++
				if len(out.Sample) < 10 {
					out.Sample = append(out.Sample, m.ProfileID)
				}
				break
			}
		}
	}
	if out.Profiles > 0 {
		out.Share = float64(out.Size) / float64(out.Profiles)
	}
	return out, nil
}

// SaveDefinition stores a builder definition (replacing one of the same
// name); the connector uses it from its next start.
func (a *App) SaveDefinition(ctx context.Context, d BuilderDefinition, by string) error {
	if _, ps := a.CheckDefinition(ctx, d); len(ps) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidDefinition, ps)
	}
	b, err := json.Marshal(d.Raw())
	if err != nil {
		return fmt.Errorf("encoding segment definition %s: %w", d.Name, err)
	}
	return a.Store.DefinitionPut(ctx, store.StoredDefinition{Name: d.Name, Definition: b, UpdatedAt: a.now().UTC(), UpdatedBy: by})
}

// BuilderDefinitionOf returns a rule definition, stored or configured,
// as the builder edits it; false when there is no rule segment by name.
func (a *App) BuilderDefinitionOf(ctx context.Context, name string) (BuilderDefinition, bool, error) {
	raw, err := mergedRaw(ctx, a.Config, a.Store)
	if err != nil {
		return BuilderDefinition{}, false, err
	}
	for _, r := range raw {
		rm, ok := r.(map[string]any)
		if !ok || rm["name"] != name || rm["kind"] != string(segment.KindRule) {
			continue
		}
		d := BuilderDefinition{Name: name}
		d.Description, _ = rm["description"].(string)
		if p, ok := rm["params"].(map[string]any); ok {
			d.Expr, _ = p["expr"].(string)
		}
		switch h := rm["holdout_percent"].(type) {
		case float64:
			d.Holdout = h
		case int:
			d.Holdout = float64(h)
		}
		return d, true, nil
	}
	return BuilderDefinition{}, false, nil
}
