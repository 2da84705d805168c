package segment

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// decoder walks a decoded YAML tree (as koanf or yaml.v3 produce it) and
// collects every problem with the key path it was found at.
type decoder struct {
	errs []error
}

func (d *decoder) errorf(path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// FieldError is one validation problem at a key path such as
// segments[3].params.min_orders.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return "a number"
	case []any, []map[string]any, []string:
		return "a list"
	case map[string]any, map[any]any:
		return "a mapping"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

// object is one mapping being decoded; done reports keys nobody asked for.
type object struct {
	d    *decoder
	path string
	m    map[string]any
	used map[string]bool
}

func (d *decoder) object(path string, v any) *object {
	o := &object{d: d, path: path, used: map[string]bool{}}
	switch m := v.(type) {
	case map[string]any:
		o.m = m
	case map[any]any:
		o.m = make(map[string]any, len(m))
		for k, x := range m {
			o.m[fmt.Sprint(k)] = x
		}
	case nil:
		o.m = map[string]any{}
	default:
		d.errorf(path, "must be a mapping, got %s", typeName(v))
		return nil
	}
	return o
}

func (o *object) sub(key string) string {
	if o.path == "" {
		return key
	}
	return o.path + "." + key
}

func (o *object) get(key string) (any, bool) {
	o.used[key] = true
	v, ok := o.m[key]
	if ok && v == nil {
		return nil, false
	}
	return v, ok
}

func (o *object) has(key string) bool { _, ok := o.m[key]; return ok }

func (o *object) str(key, def string) string {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	s, isStr := v.(string)
	if !isStr {
		o.d.errorf(o.sub(key), "must be a string, got %s", typeName(v))
		return def
	}
	return s
}

func (o *object) oneOf(key, def string, allowed ...string) string {
	s := o.str(key, def)
	if !slices.Contains(allowed, s) {
		o.d.errorf(o.sub(key), "must be one of %s, got %q", strings.Join(allowed, ", "), s)
		return def
	}
	return s
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case uint64:
		return float64(n), true
	case uint32:
		return float64(n), true
	case float64:
		return n, !math.IsNaN(n)
	case float32:
		return float64(n), !math.IsNaN(float64(n))
	}
	return 0, false
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (o *object) num(key string, def, lo, hi float64) float64 {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	f, isNum := toFloat(v)
	if !isNum {
		o.d.errorf(o.sub(key), "must be a number, got %s", typeName(v))
		return def
	}
	if f < lo || f > hi {
		o.d.errorf(o.sub(key), "must be between %s and %s, got %s", fmtNum(lo), fmtNum(hi), fmtNum(f))
		return def
	}
	return f
}

func (o *object) integer(key string, def, lo, hi int) int {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	f, isNum := toFloat(v)
	if !isNum || f != math.Trunc(f) {
		o.d.errorf(o.sub(key), "must be an integer, got %s", describeValue(v))
		return def
	}
	if f < float64(lo) || f > float64(hi) {
		o.d.errorf(o.sub(key), "must be an integer between %d and %d, got %s", lo, hi, fmtNum(f))
		return def
	}
	return int(f)
}

func describeValue(v any) string {
	if f, ok := toFloat(v); ok {
		return fmtNum(f)
	}
	return typeName(v)
}

func (o *object) boolean(key string, def bool) bool {
	v, ok := o.get(key)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		o.d.errorf(o.sub(key), "must be true or false, got %s", typeName(v))
		return def
	}
	return b
}

// list returns the elements of a list value.
func (o *object) list(key string) ([]any, bool) {
	v, ok := o.get(key)
	if !ok {
		return nil, false
	}
	switch l := v.(type) {
	case []any:
		return l, true
	case []map[string]any:
		out := make([]any, len(l))
		for i := range l {
			out[i] = l[i]
		}
		return out, true
	case []string:
		out := make([]any, len(l))
		for i := range l {
			out[i] = l[i]
		}
		return out, true
	case []float64:
		out := make([]any, len(l))
		for i := range l {
			out[i] = l[i]
		}
		return out, true
	case []int:
		out := make([]any, len(l))
		for i := range l {
			out[i] = l[i]
		}
		return out, true
	}
	o.d.errorf(o.sub(key), "must be a list, got %s", typeName(v))
	return nil, false
}

func (o *object) strings(key string, def []string) []string {
	l, ok := o.list(key)
	if !ok {
		return def
	}
	out := make([]string, 0, len(l))
	for i, v := range l {
		s, isStr := v.(string)
		if !isStr {
			o.d.errorf(fmt.Sprintf("%s[%d]", o.sub(key), i), "must be a string, got %s", typeName(v))
			continue
		}
		out = append(out, s)
	}
	return out
}

func (o *object) floats(key string) []float64 {
	l, ok := o.list(key)
	if !ok {
		return nil
	}
	out := make([]float64, 0, len(l))
	for i, v := range l {
		f, isNum := toFloat(v)
		if !isNum {
			o.d.errorf(fmt.Sprintf("%s[%d]", o.sub(key), i), "must be a number, got %s", typeName(v))
			continue
		}
		out = append(out, f)
	}
	return out
}

// done reports keys that were present but never read.
func (o *object) done() {
	var unknown []string
	for k := range o.m {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		known := make([]string, 0, len(o.used))
		for u := range o.used {
			known = append(known, u)
		}
		slices.Sort(known)
		o.d.errorf(o.sub(k), "unknown key (known keys: %s)", strings.Join(known, ", "))
	}
}
