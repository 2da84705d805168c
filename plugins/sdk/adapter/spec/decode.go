package spec

import (
	"fmt"
	"math"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// problem is a diagnostic before it has a path.
type problem struct {
	summary, detail string
}

// Decode fills dst, a pointer to a tagged config struct, from raw: first
// every default, then each key given. prefix is the section's dotted path
// (platforms.hubspot) that every diagnostic's path starts with. It reports
// every unknown key, type error, enum, bound and required violation at
// once; a key with an error keeps its default. Cross-field rules are the
// adapter's own, checked after Decode. It panics if dst is not a pointer
// to a struct with well-formed tags.
func Decode(raw map[string]any, prefix string, dst any) []adapter.Diagnostic {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("spec: Decode needs a non-nil pointer to a struct, got %T", dst))
	}
	s := mustParse(dst)
	d := &decoder{prefix: prefix, dst: rv.Elem(), given: map[*field]any{}}
	for _, f := range s.fields {
		if f.def != "" {
			v, _ := convert(f, f.def) // checked by parse
			d.set(f, v)
		}
	}
	d.section(s.root, raw, "")
	d.requireAll(s.fields)
	return d.diags
}

// Check validates raw against a published schema (the ConfigSchema a
// plugin describes) with the same rules as Decode, for hosts that do not
// have the plugin's struct. Schemas carry no bounds, so none are checked.
func Check(raw map[string]any, prefix string, schema []adapter.ConfigField) []adapter.Diagnostic {
	s, err := fromSchema(schema)
	if err != nil {
		return []adapter.Diagnostic{{Severity: adapter.SeverityError, Path: prefix, Summary: "the adapter's schema is malformed", Detail: err.Error()}}
	}
	d := &decoder{prefix: prefix, given: map[*field]any{}}
	d.section(s.root, raw, "")
	d.requireAll(s.fields)
	return d.diags
}

// Given reports whether raw sets the dotted path to a non-null value, for
// defaults that depend on whether the user set a key.
func Given(raw map[string]any, path string) bool {
	var cur any = raw
	for _, p := range strings.Split(path, ".") {
		m, ok := asMap(cur)
		if !ok {
			return false
		}
		if cur, ok = m[p]; !ok {
			return false
		}
	}
	return cur != nil
}

type decoder struct {
	prefix string
	dst    reflect.Value // invalid for Check
	given  map[*field]any
	bad    []string // paths with an error already
	diags  []adapter.Diagnostic
}

func (d *decoder) fail(path string, p *problem) {
	full := joinPath(d.prefix, path)
	d.bad = append(d.bad, path)
	d.diags = append(d.diags, adapter.Diagnostic{Severity: adapter.SeverityError, Path: full, Summary: p.summary, Detail: p.detail})
}

func (d *decoder) set(f *field, v any) {
	if !d.dst.IsValid() || f.index == nil {
		return
	}
	fv := d.dst.FieldByIndex(f.index)
	if fv.Kind() == reflect.Pointer {
		p := reflect.New(fv.Type().Elem())
		fv.Set(p)
		fv = p.Elem()
	}
	switch x := v.(type) {
	case int:
		fv.SetInt(int64(x))
	case time.Duration:
		fv.SetInt(int64(x))
	default:
		fv.Set(reflect.ValueOf(v).Convert(fv.Type()))
	}
}

// section walks one mapping of the tree against one node of the spec.
func (d *decoder) section(n *node, raw map[string]any, path string) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := raw[k]
		p := joinPath(path, k)
		kid, ok := n.kids[k]
		if !ok {
			if path == "" && k == "enabled" {
				continue // the host's switch, present in every section
			}
			if base, isFile := strings.CutSuffix(k, "_file"); isFile {
				if s, ok := n.kids[base]; ok && s.f != nil {
					if s.f.secret {
						continue // resolved by the host; tolerated if passed through
					}
					d.fail(p, &problem{"unknown key", base + " is not a secret; only secrets may be given as a file"})
					continue
				}
			}
			d.fail(p, unknown(n, k))
			continue
		}
		if v == nil {
			continue
		}
		if kid.f == nil {
			m, ok := asMap(v)
			if !ok {
				d.fail(p, &problem{"must be a mapping", "got " + describeValue(v, false)})
				continue
			}
			d.section(kid, m, p)
			continue
		}
		d.leaf(kid.f, v, p)
	}
}

func (d *decoder) leaf(f *field, v any, path string) {
	val, p := convert(f, v)
	if p != nil {
		d.fail(path+p.at, &p.problem)
		return
	}
	if p := f.rules(val); p != nil {
		d.fail(path+p.at, &p.problem)
		return
	}
	d.given[f] = val
	d.set(f, val)
}

// requireAll reports required keys that are absent without a default, or
// given empty.
func (d *decoder) requireAll(fields []*field) {
	for _, f := range fields {
		if !f.required || slices.ContainsFunc(d.bad, func(p string) bool {
			return p == f.path || strings.HasPrefix(p, f.path+"[") || strings.HasPrefix(p, f.path+".")
		}) {
			continue
		}
		v, ok := d.given[f]
		if (ok && !empty(v)) || (!ok && f.def != "") {
			continue
		}
		d.fail(f.path, &problem{"is required", f.doc})
	}
}

func empty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	case map[string]string:
		return len(x) == 0
	}
	return false
}

// located is a problem found inside a value: at is "[2]" or ".key".
type located struct {
	problem
	at string
}

// convert turns a tree value into the Go value of f's kind.
func convert(f *field, v any) (any, *located) {
	bad := func(summary string) (any, *located) {
		return nil, &located{problem: problem{summary, "got " + describeValue(v, f.secret)}}
	}
	switch f.kind {
	case adapter.FieldString, adapter.FieldURL:
		s, ok := scalarString(v)
		if !ok {
			return bad("must be a string")
		}
		return s, nil
	case adapter.FieldInt:
		switch x := v.(type) {
		case int:
			return x, nil
		case int64:
			return int(x), nil
		case uint64:
			if x <= math.MaxInt64 {
				return int(x), nil
			}
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int(x), nil
			}
		case string:
			if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil {
				return n, nil
			}
		}
		return bad("must be a whole number")
	case adapter.FieldNumber:
		switch x := v.(type) {
		case int:
			return float64(x), nil
		case int64:
			return float64(x), nil
		case uint64:
			return float64(x), nil
		case float64:
			return x, nil
		case string:
			s := strings.TrimSpace(x)
			num, pct := strings.CutSuffix(s, "%")
			if n, err := strconv.ParseFloat(strings.TrimSpace(num), 64); err == nil && !math.IsNaN(n) && !math.IsInf(n, 0) {
				if pct {
					n /= 100
				}
				return n, nil
			}
		}
		return bad("must be a number")
	case adapter.FieldBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return bad("must be true or false")
	case adapter.FieldDuration:
		switch x := v.(type) {
		case time.Duration:
			return x, nil
		case string:
			if t, err := time.ParseDuration(strings.TrimSpace(x)); err == nil {
				return t, nil
			}
		case int:
			return time.Duration(x) * time.Second, nil
		case int64:
			return time.Duration(x) * time.Second, nil
		case float64:
			return time.Duration(x * float64(time.Second)), nil
		}
		return bad("must be a duration with a unit, such as 30s, 5m or 1h30m")
	case adapter.FieldList:
		switch x := v.(type) {
		case []string:
			return slices.Clone(x), nil
		case string:
			out := []string{}
			for _, p := range strings.Split(x, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
			return out, nil
		case []any:
			out := make([]string, 0, len(x))
			for i, e := range x {
				s, ok := scalarString(e)
				if !ok {
					return nil, &located{problem{"must be a string", "got " + describeValue(e, f.secret)}, "[" + strconv.Itoa(i) + "]"}
				}
				out = append(out, s)
			}
			return out, nil
		}
		return bad("must be a list of strings")
	case adapter.FieldMap:
		m, ok := asMap(v)
		if !ok {
			if sm, isSM := v.(map[string]string); isSM {
				return maps(sm), nil
			}
			return bad("must be a mapping of names to strings")
		}
		out := make(map[string]string, len(m))
		for k, e := range m {
			s, ok := scalarString(e)
			if !ok {
				return nil, &located{problem{"must be a string", "got " + describeValue(e, f.secret)}, "." + k}
			}
			out[k] = s
		}
		return out, nil
	}
	// A type from a newer schema than this host knows: leave it to the
	// adapter's own ValidateConfig.
	return v, nil
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// scalarString accepts strings (trimmed) and whole numbers: YAML and
// environment variables turn an all-digit id into a number.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	}
	return "", false
}

// rules checks a converted value against the URL, enum and bound rules.
func (f *field) rules(v any) *located {
	switch x := v.(type) {
	case string:
		if f.kind == adapter.FieldURL && x != "" {
			u, err := url.Parse(x)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return &located{problem: problem{"must be an absolute http(s) URL", f.got(x)}}
			}
		}
		return f.inEnum(x, "")
	case []string:
		for i, e := range x {
			if p := f.inEnum(e, "["+strconv.Itoa(i)+"]"); p != nil {
				return p
			}
		}
	case map[string]string:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p := f.inEnum(x[k], "."+k); p != nil {
				return p
			}
		}
	case int:
		return f.bounds(float64(x), 0, false)
	case float64:
		return f.bounds(x, 0, false)
	case time.Duration:
		return f.bounds(0, x, true)
	}
	return nil
}

func (f *field) got(s string) string {
	if f.secret {
		return ""
	}
	return fmt.Sprintf("got %q", s)
}

func (f *field) inEnum(s, at string) *located {
	if len(f.enum) == 0 || slices.Contains(f.enum, s) {
		return nil
	}
	return &located{problem{"must be one of " + strings.Join(f.enum, ", "), f.got(s)}, at}
}

func (f *field) bounds(n float64, dur time.Duration, isDur bool) *located {
	below := func(b bound) bool {
		if isDur {
			return dur < b.dur || (b.exclusive && dur == b.dur)
		}
		return n < b.num || (b.exclusive && n == b.num)
	}
	above := func(b bound) bool {
		if isDur {
			return dur > b.dur
		}
		return n > b.num
	}
	got := "got " + strconv.FormatFloat(n, 'g', -1, 64)
	if isDur {
		got = "got " + dur.String()
	}
	if (f.min.set && below(f.min)) || (f.max.set && above(f.max)) {
		return &located{problem: problem{f.boundSummary(), got}}
	}
	return nil
}

func (f *field) boundSummary() string {
	switch {
	case f.min.set && f.max.set && !f.min.exclusive:
		return "must be between " + f.min.text + " and " + f.max.text
	case f.min.set && f.max.set:
		return "must be greater than " + f.min.text + " and at most " + f.max.text
	case f.min.set && f.min.exclusive && isZero(f.min):
		return "must be positive"
	case f.min.set && f.min.exclusive:
		return "must be greater than " + f.min.text
	case f.min.set && isZero(f.min):
		return "must not be negative"
	case f.min.set:
		return "must be at least " + f.min.text
	}
	return "must be at most " + f.max.text
}

func isZero(b bound) bool { return b.num == 0 && b.dur == 0 }

// asMap accepts the map types a YAML or JSON decoder and the host produce.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case adapter.Config:
		return m, true
	}
	return nil, false
}

// describeValue names a value's YAML type, and shows it unless secret.
func describeValue(v any, secret bool) string {
	var kind string
	switch v.(type) {
	case string:
		kind = "a string"
	case int, int64, uint64, float64:
		kind = "a number"
	case bool:
		kind = "a boolean"
	case []any, []string:
		kind = "a list"
	case map[string]any, adapter.Config, map[string]string:
		kind = "a mapping"
	default:
		kind = fmt.Sprintf("a %T", v)
	}
	if secret {
		return kind
	}
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%s %q", kind, x)
	case int, int64, uint64, float64, bool:
		return fmt.Sprintf("%s (%v)", kind, x)
	}
	return kind
}
