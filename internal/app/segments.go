package app

import (
	"errors"
	"strings"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/config"
)

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
	expandWriteback(defs, cfg.InstancesByAdapter())
	return defs, nil
}

// expandWriteback lets a write-back key that names an adapter, and no
// instance, stand for every instance of that adapter (writeback:
// {woocommerce: ...} writes to both shops when shop-eu and shop-us run
// the woocommerce adapter); an instance's own key wins over its
// adapter's.
func expandWriteback(defs []segment.Definition, byAdapter map[string][]string) {
	instance := map[string]bool{}
	for _, names := range byAdapter {
		for _, n := range names {
			instance[n] = true
		}
	}
	for i := range defs {
		wb := defs[i].Writeback
		for key, t := range wb {
			if instance[key] || len(byAdapter[key]) == 0 {
				continue
			}
			delete(wb, key)
			for _, n := range byAdapter[key] {
				if _, own := wb[n]; !own {
					wb[n] = t
				}
			}
		}
	}
}

// enabledPlatformNames names the enabled sections under platforms (the
// instances the default segments write back to), sorted.
func enabledPlatformNames(cfg *config.Loaded) []string {
	var out []string
	for _, in := range cfg.Instances() {
		if strings.HasPrefix(in.Path, "platforms.") {
			out = append(out, in.Name)
		}
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
