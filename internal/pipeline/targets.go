package pipeline

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// targets is the write-back layout of one platform for one set of segments.
type targets struct {
	list []adapter.Target
	// props maps a property target key to how its value is computed.
	props map[string]*propTarget
	// lists maps a segment name to its list target key.
	lists map[string]string
	// segmentOf maps a list target key back to its segment.
	segmentOf map[string]string
	// keepOptedOut marks list target keys whose segment writes opted-out
	// people too (see consent.go).
	keepOptedOut map[string]bool
	// ids caches platform ids of ensured targets (Drain only).
	ids map[string]string
	// values maps the key of a property that holds a per-customer value
	// rather than segment names to that value: valueNextOrder or
	// valueOrderGap (see withValues).
	values map[string]string
}

// The per-customer values a property target can carry.
const (
	valueNextOrder = "next_order_date"
	valueOrderGap  = "avg_days_between_orders"
)

func (t *targets) ensured() map[string]string {
	out := make(map[string]string, len(t.ids))
	for k, v := range t.ids {
		out[k] = v
	}
	return out
}

func (t *targets) setEnsured(key, id string) {
	if t.ids == nil {
		t.ids = map[string]string{}
	}
	t.ids[key] = id
}

type propTarget struct {
	key   string
	multi bool
	// display maps member segment names to the value written.
	display map[string]string
}

// TagsProperty names the multi-value property that collects segments
// marked `tag: true` in their write-back.
const TagsProperty = "segments"

// buildTargets derives the platform's targets from the run's segments:
//   - property: one enumeration property per definition holding the group
//     name (exclusive kinds) or the ';'-joined group names (others);
//   - list: one static list per segment, named <list_name or definition> <group>;
//   - tag: the segment's name in the shared multi-value "segments" property.
func buildTargets(platform string, segs []segment.SegmentInfo) *targets {
	t := &targets{props: map[string]*propTarget{}, lists: map[string]string{}, segmentOf: map[string]string{}}
	options := map[string][]string{}
	for _, s := range segs {
		wb, ok := s.Writeback[platform]
		if !ok {
			continue
		}
		label := s.Group
		if label == "" {
			label = s.Name
		}
		if wb.Property != "" {
			key := "prop:" + wb.Property
			pt := t.props[key]
			if pt == nil {
				pt = &propTarget{key: key, multi: !s.Exclusive, display: map[string]string{}}
				t.props[key] = pt
			}
			pt.display[s.Name] = label
			options[key] = append(options[key], label)
		}
		if wb.Tag {
			key := "prop:" + TagsProperty
			pt := t.props[key]
			if pt == nil {
				pt = &propTarget{key: key, multi: true, display: map[string]string{}}
				t.props[key] = pt
			}
			pt.display[s.Name] = s.Name
			options[key] = append(options[key], s.Name)
		}
		for _, v := range []struct{ name, value, typ string }{
			{wb.NextOrderProperty, valueNextOrder, adapter.ValueDate},
			{wb.OrderGapProperty, valueOrderGap, adapter.ValueNumber},
		} {
			key := "prop:" + v.name
			if v.name == "" || t.values[key] != "" || t.props[key] != nil {
				continue
			}
			if t.values == nil {
				t.values = map[string]string{}
			}
			t.values[key] = v.value
			t.list = append(t.list, adapter.Target{Key: key, Kind: adapter.TargetProperty, Name: v.name, Type: v.typ})
		}
		if wb.List {
			key := "list:" + s.Name
			name := wb.ListName
			if name == "" {
				name = s.Definition
			}
			if s.Group != "" && s.Name != s.Definition {
				name += " " + s.Group
			}
			t.lists[s.Name] = key
			if wb.IncludeOptedOut {
				if t.keepOptedOut == nil {
					t.keepOptedOut = map[string]bool{}
				}
				t.keepOptedOut[key] = true
			}
			t.segmentOf[key] = s.Name
			t.list = append(t.list, adapter.Target{Key: key, Kind: adapter.TargetList, Name: name})
		}
	}
	for _, key := range sortedKeys(t.props) {
		pt := t.props[key]
		opts := slices.Clone(options[key])
		slices.Sort(opts)
		opts = slices.Compact(opts)
		t.list = append(t.list, adapter.Target{Key: key, Kind: adapter.TargetProperty, Name: strings.TrimPrefix(key, "prop:"), Options: opts, Multi: pt.multi})
	}
	sort.Slice(t.list, func(i, j int) bool { return t.list[i].Key < t.list[j].Key })
	return t
}

// state is the desired write-back state of one record. It travels in the
// outbox, so the drainer can compare it with what the connector owns at the
// moment of writing (see Drain).
type state struct {
	Props map[string]string `json:"props"` // property target key → value ("" = none)
	Lists map[string]bool   `json:"lists"` // every list target key → member
}

// desiredState maps a profile's memberships (segment → control) to target
// values. Holdout (control) members get nothing written.
func (t *targets) desiredState(member map[string]bool) state {
	st := state{Props: map[string]string{}, Lists: map[string]bool{}}
	for key, pt := range t.props {
		var vals []string
		for seg, label := range pt.display {
			if control, ok := member[seg]; ok && !control {
				vals = append(vals, label)
			}
		}
		slices.Sort(vals)
		vals = slices.Compact(vals)
		if !pt.multi && len(vals) > 1 {
			vals = vals[:1]
		}
		st.Props[key] = strings.Join(vals, ";")
	}
	for seg, key := range t.lists {
		control, ok := member[seg]
		st.Lists[key] = ok && !control
	}
	return st
}

// withValues returns want with the per-customer value properties set from
// the profile's next-order values (a copy; want is shared).
func (t *targets) withValues(want state, sc scored) state {
	if len(t.values) == 0 {
		return want
	}
	out := state{Props: maps.Clone(want.Props), Lists: want.Lists}
	for key, v := range t.values {
		if val, ok := valueOf(v, sc); ok {
			out.Props[key] = val
		}
	}
	return out
}

// valueOf returns the person's value of a written value kind.
func valueOf(v string, sc scored) (string, bool) {
	switch v {
	case valueNextOrder:
		return sc.nextOrder, true
	case valueOrderGap:
		return sc.orderGap, true
	}
	return "", false
}

// valuesHash returns the settled-record hash (settledRecords.hash) of
// withValues(want, sc), given want's own hash h, without building it:
// the hash is a sum over entries, so each value's entry is swapped in.
func (t *targets) valuesHash(s *settledRecords, want state, h uint64, sc scored) uint64 {
	for key, v := range t.values {
		val, ok := valueOf(v, sc)
		if !ok {
			continue
		}
		if old, had := want.Props[key]; had {
			h -= s.propHash(key, old)
		}
		h += s.propHash(key, val)
	}
	return h
}

// wantsNextOrder reports whether any segment writes next-order values
// back, so they are worth computing.
func wantsNextOrder(segs []segment.SegmentInfo) bool {
	for _, s := range segs {
		for _, wb := range s.Writeback {
			if wb.NextOrderProperty != "" || wb.OrderGapProperty != "" {
				return true
			}
		}
	}
	return false
}

// delta compares the desired state with what the connector owns on the
// record and returns the push item that closes the gap. Values the
// connector never wrote are never cleared, and lists it never joined are
// never left.
//
// unsure are states that attempts may have written in part without the
// connector recording it (see store.OutboxSuperseded). A target where one
// of them differs from what the connector owns may hold either, so it is
// set explicitly: the wanted value written or cleared, the list joined or
// left.
func delta(ref domain.ExternalRef, want state, owned []store.Ownership, unsure []state) (adapter.PushItem, bool) {
	ownedProps := map[string]string{}
	ownedAt := map[string]time.Time{}
	ownedLists := map[string]bool{}
	for _, o := range owned {
		if strings.HasPrefix(o.Target, "list:") {
			ownedLists[o.Target] = true
		} else if at, seen := ownedAt[o.Target]; !seen || o.WrittenAt.After(at) {
			// Should there be several (written before values were
			// released), the latest write is what the platform holds.
			ownedProps[o.Target], ownedAt[o.Target] = o.Value, o.WrittenAt
		}
	}
	propUnsure := map[string]bool{}
	listUnsure := map[string]bool{}
	for _, u := range unsure {
		for key, v := range u.Props {
			if v != "" && v != ownedProps[key] {
				propUnsure[key] = true
			}
		}
		for key, in := range u.Lists {
			if in != ownedLists[key] {
				listUnsure[key] = true
			}
		}
	}
	item := adapter.PushItem{ID: ref.Key(), Ref: ref}
	for _, key := range sortedKeys(want.Props) {
		v := want.Props[key]
		have, isOwned := ownedProps[key]
		switch {
		case propUnsure[key]:
			if item.Properties == nil {
				item.Properties = map[string]string{}
			}
			item.Properties[key] = v // the value, or "" to clear one an attempt may have written
		case v != "" && v != have:
			if item.Properties == nil {
				item.Properties = map[string]string{}
			}
			item.Properties[key] = v
		case v == "" && isOwned && have != "":
			if item.Properties == nil {
				item.Properties = map[string]string{}
			}
			item.Properties[key] = "" // clear only what we wrote
		}
	}
	for _, key := range sortedKeys(want.Lists) {
		switch {
		case want.Lists[key] && (!ownedLists[key] || listUnsure[key]):
			item.Add = append(item.Add, key)
		case !want.Lists[key] && (ownedLists[key] || listUnsure[key]):
			item.Remove = append(item.Remove, key)
		}
	}
	changed := len(item.Properties) > 0 || len(item.Add) > 0 || len(item.Remove) > 0
	return item, changed
}
