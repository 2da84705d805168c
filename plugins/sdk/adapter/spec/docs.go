package spec

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Table renders the config struct v as a Markdown table for a README:
// key, type, default and description with its rules.
func Table(v any) string {
	s := mustParse(v)
	// Pipes and angle brackets in a description would be read as table
	// columns or HTML.
	mdEscape := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")
	var b strings.Builder
	b.WriteString("| key | type | default | description |\n|---|---|---|---|\n")
	for _, f := range s.fields {
		def := "—"
		if f.def != "" {
			def = "`" + f.def + "`"
		}
		notes := []string{}
		if f.doc != "" {
			notes = append(notes, f.doc)
		}
		if f.required && f.def == "" {
			notes = append(notes, "**required**")
		} else if f.required {
			notes = append(notes, "must not be empty")
		}
		if f.secret {
			notes = append(notes, "secret (or `"+lastKey(f.path)+"_file`: a file holding it)")
		}
		if len(f.enum) > 0 {
			notes = append(notes, "one of `"+strings.Join(f.enum, "`, `")+"`")
		}
		if r := f.rangeText(); r != "" {
			notes = append(notes, r)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.path, f.kind, def, mdEscape.Replace(strings.Join(notes, "; ")))
	}
	return b.String()
}

// Example renders the config struct v as the YAML body of its section in
// an example config, each line starting with indent. A key is set to its
// example tag (YAML text) or else its default; a key with neither is shown
// commented out, as is a section none of whose keys is set. Each key's doc
// is a comment above it.
func Example(v any, indent string) string {
	s := mustParse(v)
	var b strings.Builder
	writeExample(&b, s.root, indent, false)
	return b.String()
}

func writeExample(b *strings.Builder, n *node, indent string, commented bool) {
	for _, k := range n.keys {
		kid := n.kids[k]
		if kid.f == nil {
			off := commented || !anySet(kid)
			fmt.Fprintf(b, "%s%s:\n", indent+hash(off), k)
			writeExample(b, kid, indent+"  ", off)
			continue
		}
		f := kid.f
		if doc := f.exampleDoc(); doc != "" {
			for _, line := range wrap(doc, 96-len(indent)) {
				fmt.Fprintf(b, "%s# %s\n", indent, line)
			}
		}
		val := f.exampleValue()
		if val == "" || commented {
			fmt.Fprintf(b, "%s# %s:%s\n", indent, k, prefixSpace(val))
			continue
		}
		fmt.Fprintf(b, "%s%s: %s\n", indent, k, val)
	}
}

func hash(on bool) string {
	if on {
		return "# "
	}
	return ""
}

func prefixSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func anySet(n *node) bool {
	for _, kid := range n.kids {
		if kid.f == nil && anySet(kid) || kid.f != nil && kid.f.exampleValue() != "" {
			return true
		}
	}
	return false
}

func (f *field) exampleDoc() string {
	doc := f.describe()
	var extra []string
	if f.required && f.def == "" {
		extra = append(extra, "required")
	} else if f.required {
		extra = append(extra, "must not be empty")
	}
	if f.secret {
		extra = append(extra, "secret; or "+lastKey(f.path)+"_file: PATH")
	}
	if len(f.enum) > 0 {
		extra = append(extra, "one of "+strings.Join(f.enum, ", "))
	}
	if len(extra) == 0 {
		return doc
	}
	if doc == "" {
		return strings.Join(extra, "; ")
	}
	return doc + " [" + strings.Join(extra, "; ") + "]"
}

func (f *field) exampleValue() string {
	if f.example != "" {
		return f.example
	}
	if f.def == "" {
		return ""
	}
	switch f.kind {
	case adapter.FieldList:
		v, _ := convert(f, f.def)
		items := v.([]string)
		for i, s := range items {
			items[i] = yamlString(s, true)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case adapter.FieldString, adapter.FieldURL:
		return yamlString(f.def, false)
	}
	return f.def
}

// yamlString quotes s when YAML would read it as something else; inFlow
// is for an element of a [a, b] list, where commas and brackets matter.
func yamlString(s string, inFlow bool) string {
	needs := s == "" || strings.TrimSpace(s) != s || strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`") ||
		strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") ||
		(inFlow && strings.ContainsAny(s, ",[]{}"))
	if !needs {
		switch strings.ToLower(s) {
		case "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n":
			needs = true
		}
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		needs = true
	}
	if needs {
		return strconv.Quote(s)
	}
	return s
}

func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

func lastKey(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

// Splice replaces the lines between the marker lines "BEGIN spec:NAME"
// and "END spec:NAME" of doc (in whatever comment syntax the file uses)
// with body, keeping the markers.
func Splice(doc []byte, name, body string) ([]byte, error) {
	begin, err := markerLine(doc, "BEGIN spec:"+name)
	if err != nil {
		return nil, err
	}
	end, err := markerLine(doc[begin:], "END spec:"+name)
	if err != nil {
		return nil, err
	}
	end += begin
	startBody := begin + bytes.IndexByte(doc[begin:], '\n') + 1
	endBody := bytes.LastIndexByte(doc[:end], '\n') + 1
	if body != "" && !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	out := make([]byte, 0, len(doc)+len(body))
	out = append(out, doc[:startBody]...)
	out = append(out, body...)
	return append(out, doc[endBody:]...), nil
}

// markerLine returns the offset of the start of the line holding marker,
// which must be followed by a space, the end of line or "-->".
func markerLine(doc []byte, marker string) (int, error) {
	for off := 0; off < len(doc); {
		i := bytes.Index(doc[off:], []byte(marker))
		if i < 0 {
			break
		}
		i += off
		after := doc[i+len(marker):]
		if len(after) == 0 || after[0] == ' ' || after[0] == '\n' || after[0] == '\r' {
			return bytes.LastIndexByte(doc[:i], '\n') + 1, nil
		}
		off = i + len(marker)
	}
	return 0, fmt.Errorf("no line with %q", marker)
}

// UpdateFile splices body between the markers of name in the file at
// path. It reports whether the file's block differed; when write is true
// it also rewrites the file. A test calls it with write false to fail on
// drift, and `go generate` with write true to regenerate.
func UpdateFile(path, name, body string, write bool) (stale bool, err error) {
	doc, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	out, err := Splice(doc, name, body)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(doc, out) {
		return false, nil
	}
	if write {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return true, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return true, nil
}

// SyncDocs renders the config struct v into the generated blocks named
// name (the section's path, such as platforms.hubspot) of two files: the
// Markdown table in readme and the YAML body in example, each line of the
// latter starting with indent. It returns the files whose blocks differed;
// with write it also rewrites them. An adapter's test calls it without
// write to fail when its docs drift from its spec, and its go:generate
// line with write to regenerate them.
func SyncDocs(v any, name, readme, example, indent string, write bool) (stale []string, err error) {
	for _, d := range []struct{ path, body string }{{readme, Table(v)}, {example, Example(v, indent)}} {
		if d.path == "" {
			continue
		}
		s, err := UpdateFile(d.path, name, d.body, write)
		if err != nil {
			return stale, err
		}
		if s {
			stale = append(stale, d.path)
		}
	}
	return stale, nil
}
