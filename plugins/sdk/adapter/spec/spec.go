package spec

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// field is one leaf of a spec: a key with its type and rules. index is
// the path of struct field indexes to set when decoding into a struct; it
// is nil for a spec built from a published schema.
type field struct {
	path     string // dotted, inside the section
	kind     adapter.FieldType
	doc      string
	def      string
	example  string
	enum     []string
	min, max bound
	required bool
	secret   bool
	index    []int
}

// bound is a min or max tag, parsed for the field's kind.
type bound struct {
	set       bool
	exclusive bool    // min only: the value must be greater
	text      string  // as written, for messages
	num       float64 // for int and number fields
	dur       time.Duration
}

// node is a level of the key tree: a section with children, or a leaf.
type node struct {
	f    *field
	kids map[string]*node
	keys []string // children in declaration order
}

// spec is a parsed config struct or schema.
type spec struct {
	fields []*field
	root   *node
}

var durationType = reflect.TypeOf(time.Duration(0))

// parse reads the tags of t, a struct type or a pointer to one.
func parse(t reflect.Type) (*spec, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("spec: %s is not a struct", t)
	}
	s := &spec{root: &node{kids: map[string]*node{}}}
	if err := s.walkType(t, "", nil); err != nil {
		return nil, err
	}
	return s, nil
}

// mustParse is parse for values whose tags are fixed at compile time: a
// malformed tag is a programming error that any test of the adapter finds.
func mustParse(v any) *spec {
	s, err := parse(reflect.TypeOf(v))
	if err != nil {
		panic(err)
	}
	return s
}

func (s *spec) walkType(t reflect.Type, prefix string, index []int) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag, ok := sf.Tag.Lookup("spec")
		if !ok {
			return fmt.Errorf("spec: %s.%s has no spec tag (use `spec:\"-\"` to leave it out)", t, sf.Name)
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" || strings.Contains(name, " ") || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return fmt.Errorf("spec: %s.%s: bad key %q", t, sf.Name, name)
		}
		path := joinPath(prefix, name)
		idx := append(slices.Clone(index), i)
		if sf.Type.Kind() == reflect.Struct && sf.Type != durationType {
			if opts != "" || sf.Tag.Get("default") != "" {
				return fmt.Errorf("spec: section %s takes no options or default", path)
			}
			if err := s.add(path, nil); err != nil {
				return err
			}
			if err := s.walkType(sf.Type, path, idx); err != nil {
				return err
			}
			continue
		}
		f := &field{path: path, index: idx, doc: sf.Tag.Get("doc"), def: sf.Tag.Get("default"), example: sf.Tag.Get("example")}
		kind, err := kindOf(sf.Type)
		if err != nil {
			return fmt.Errorf("spec: %s: %w", path, err)
		}
		f.kind = kind
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "":
			case "secret":
				f.secret = true
			case "required":
				f.required = true
			case "url":
				if kind != adapter.FieldString {
					return fmt.Errorf("spec: %s: option url needs a string field", path)
				}
				f.kind = adapter.FieldURL
			default:
				return fmt.Errorf("spec: %s: unknown option %q", path, o)
			}
		}
		if e := sf.Tag.Get("enum"); e != "" {
			f.enum = strings.Split(e, ",")
		}
		if f.min, err = parseBound(f.kind, sf.Tag.Get("min"), true); err != nil {
			return fmt.Errorf("spec: %s: min: %w", path, err)
		}
		if f.max, err = parseBound(f.kind, sf.Tag.Get("max"), false); err != nil {
			return fmt.Errorf("spec: %s: max: %w", path, err)
		}
		if f.def != "" {
			v, p := convert(f, f.def)
			if p == nil {
				p = f.rules(v)
			}
			if p != nil {
				return fmt.Errorf("spec: %s: default %q %s", path, f.def, p.summary)
			}
		}
		if err := s.add(path, f); err != nil {
			return err
		}
	}
	return nil
}

func kindOf(t reflect.Type) (adapter.FieldType, error) {
	if t.Kind() == reflect.Pointer {
		// A pointer to a scalar is an optional value: nil when neither
		// given nor defaulted.
		switch t.Elem().Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Struct:
			if t.Elem() != durationType {
				return "", fmt.Errorf("unsupported type %s", t)
			}
		}
		t = t.Elem()
	}
	if t == durationType {
		return adapter.FieldDuration, nil
	}
	switch t.Kind() {
	case reflect.String:
		return adapter.FieldString, nil
	case reflect.Int, reflect.Int64, reflect.Int32:
		return adapter.FieldInt, nil
	case reflect.Float64:
		return adapter.FieldNumber, nil
	case reflect.Bool:
		return adapter.FieldBool, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return adapter.FieldList, nil
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.String {
			return adapter.FieldMap, nil
		}
	}
	return "", fmt.Errorf("unsupported type %s", t)
}

func parseBound(kind adapter.FieldType, s string, isMin bool) (bound, error) {
	if s == "" {
		return bound{}, nil
	}
	b := bound{set: true, text: s}
	if isMin {
		if rest, ok := strings.CutPrefix(s, ">"); ok {
			b.exclusive, s, b.text = true, rest, rest
		}
	}
	var err error
	switch kind {
	case adapter.FieldInt, adapter.FieldNumber:
		b.num, err = strconv.ParseFloat(s, 64)
	case adapter.FieldDuration:
		b.dur, err = time.ParseDuration(s)
	default:
		err = fmt.Errorf("only numbers and durations have bounds")
	}
	return b, err
}

// add puts a leaf (f != nil) or a section (f == nil) at path.
func (s *spec) add(path string, f *field) error {
	parts := strings.Split(path, ".")
	n := s.root
	for i, p := range parts {
		kid, ok := n.kids[p]
		last := i == len(parts)-1
		switch {
		case ok && !last && kid.f == nil:
		case !ok:
			kid = &node{}
			if !last || f == nil {
				kid.kids = map[string]*node{}
			}
			n.kids[p] = kid
			n.keys = append(n.keys, p)
		case last || kid.f != nil:
			return fmt.Errorf("spec: key %s is declared twice", strings.Join(parts[:i+1], "."))
		}
		n = kid
	}
	if f != nil {
		n.f = f
		s.fields = append(s.fields, f)
	}
	return nil
}

// fromSchema builds a spec from a published schema (a plugin's Describe),
// for checking a section whose struct is not at hand.
func fromSchema(schema []adapter.ConfigField) (*spec, error) {
	s := &spec{root: &node{kids: map[string]*node{}}}
	for _, c := range schema {
		f := &field{path: c.Name, kind: c.Type, doc: c.Description, def: c.Default, enum: c.Enum, required: c.Required, secret: c.Secret}
		if err := s.add(c.Name, f); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Fields returns the schema of the config struct v (a struct value or a
// pointer to one), in declaration order, for Describe. It panics on a
// malformed tag, which is a programming error.
func Fields(v any) []adapter.ConfigField {
	s := mustParse(v)
	out := make([]adapter.ConfigField, 0, len(s.fields))
	for _, f := range s.fields {
		out = append(out, adapter.ConfigField{Name: f.path, Type: f.kind, Description: f.describe(), Default: f.def,
			Enum: f.enum, Required: f.required, Secret: f.secret})
	}
	return out
}

// describe is the doc with the bounds appended, as the schema carries no
// bounds of its own.
func (f *field) describe() string {
	r := f.rangeText()
	if r == "" {
		return f.doc
	}
	if f.doc == "" {
		return r
	}
	return f.doc + " (" + r + ")"
}

func (f *field) rangeText() string {
	switch {
	case f.min.set && f.max.set && !f.min.exclusive:
		return f.min.text + "–" + f.max.text
	case f.min.set && f.max.set:
		return "> " + f.min.text + ", ≤ " + f.max.text
	case f.min.set && f.min.exclusive:
		return "> " + f.min.text
	case f.min.set:
		return "≥ " + f.min.text
	case f.max.set:
		return "≤ " + f.max.text
	}
	return ""
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
