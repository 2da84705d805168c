package pluginhost

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrUnsafeEdit: the config file cannot be edited without risk of
// changing more than the plugin's entry; the caller prints the snippet.
var ErrUnsafeEdit = errors.New("the config file cannot be edited safely")

// Snippet is the YAML entry that declares in, for a config's plugins list.
func Snippet(in Installed) string {
	return fmt.Sprintf("plugins:\n  - name: %s\n    path: %s\n    sha256: %s\n", in.Name, yamlScalar(in.Path), in.SHA256)
}

func yamlScalar(s string) string {
	b, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSpace(string(b))
}

// AddToConfig declares in under plugins: in the YAML config file at path:
// an entry of the same name gets the new path and sha256 (its other keys,
// such as config and env, stay); else an entry is appended. The edit is
// textual, on the plugins: block alone, so every comment, blank line and
// layout elsewhere stays as it was; and it is written only when the new
// file decodes to exactly the old content plus this change. A layout it
// does not handle (a non-empty flow list, several documents, something
// that is not a mapping) returns ErrUnsafeEdit and leaves the file alone,
// for the caller to print the entry instead. The new file replaces the
// old by rename, keeping its mode.
func AddToConfig(path string, in Installed) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafeEdit, err)
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%w: %s is not a regular file", ErrUnsafeEdit, path)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafeEdit, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(old, &doc); err != nil {
		return fmt.Errorf("%w: %s is not valid YAML: %w", ErrUnsafeEdit, path, err)
	}
	if len(bytes.TrimSpace(old)) > 0 && (doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode) {
		return fmt.Errorf("%w: %s is not a single YAML mapping", ErrUnsafeEdit, path)
	}
	if bytes.Contains(old, []byte("\n---")) {
		return fmt.Errorf("%w: %s holds several YAML documents", ErrUnsafeEdit, path)
	}
	updated, err := editPlugins(string(old), in)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafeEdit, err)
	}
	if err := sameButPlugin(old, []byte(updated), in); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafeEdit, err)
	}
	return replaceFile(path, []byte(updated), info.Mode().Perm())
}

// replaceFile writes b beside path and renames it into place.
func replaceFile(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}

var (
	pluginsKeyRE = regexp.MustCompile(`^plugins:\s*(\[\s*\])?\s*(#.*)?$`)
	entryRE      = regexp.MustCompile(`^(\s*)-\s`)
	entryNameRE  = regexp.MustCompile(`^\s*(?:-\s+)?name:\s*["']?([^"'#\s]+)["']?\s*(#.*)?$`)
	keyLineRE    = regexp.MustCompile(`^(\s*)(path|sha256):`)
)

// entryLines is in as the lines of a block list item at indent.
func entryLines(indent string, in Installed) []string {
	return []string{
		indent + "- name: " + yamlScalar(in.Name),
		indent + "  path: " + yamlScalar(in.Path),
		indent + "  sha256: " + in.SHA256,
	}
}

func (in Installed) value(key string) string {
	if key == "path" {
		return yamlScalar(in.Path)
	}
	return in.SHA256
}

// editPlugins returns text with in declared in its top-level plugins:
// block (see AddToConfig).
func editPlugins(text string, in Installed) (string, error) {
	lines := strings.Split(text, "\n")
	at := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "plugins:") {
			if !pluginsKeyRE.MatchString(l) {
				return "", errors.New("plugins: is written in a form this edit does not handle")
			}
			at = i
		}
	}
	if at < 0 { // no plugins: key yet
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		return text + "plugins:\n" + strings.Join(entryLines("  ", in), "\n") + "\n", nil
	}
	if strings.Contains(lines[at], "[") { // plugins: []
		out := append(append(slices.Clone(lines[:at]), "plugins:"), entryLines("  ", in)...)
		return strings.Join(append(out, lines[at+1:]...), "\n"), nil
	}
	// A block list runs until the next top-level key; comments and blank
	// lines after its last entry belong to what follows.
	end, indent := at, ""
	for j := at + 1; j < len(lines); j++ {
		l := lines[j]
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if l[0] != ' ' && l[0] != '-' {
			break
		}
		if m := entryRE.FindStringSubmatch(l); m != nil && indent == "" {
			indent = m[1]
		}
		end = j
	}
	if end == at {
		out := append(slices.Clone(lines[:at+1]), entryLines("  ", in)...)
		return strings.Join(append(out, lines[at+1:]...), "\n"), nil
	}
	// An entry of the same name: set its path and sha256.
	for j := at + 1; j <= end; j++ {
		m := entryNameRE.FindStringSubmatch(lines[j])
		if m == nil || m[1] != in.Name {
			continue
		}
		start := j
		for start > at+1 && !entryRE.MatchString(lines[start]) {
			start--
		}
		stop := start + 1
		for stop <= end && !strings.HasPrefix(lines[stop], indent+"- ") {
			stop++
		}
		seen := map[string]bool{}
		for k := start + 1; k < stop; k++ {
			if km := keyLineRE.FindStringSubmatch(lines[k]); km != nil && len(km[1]) == len(indent)+2 {
				lines[k] = km[1] + km[2] + ": " + in.value(km[2])
				seen[km[2]] = true
			}
		}
		var add []string
		for _, k := range []string{"path", "sha256"} {
			if !seen[k] {
				add = append(add, indent+"  "+k+": "+in.value(k))
			}
		}
		out := append(slices.Clone(lines[:j+1]), add...)
		return strings.Join(append(out, lines[j+1:]...), "\n"), nil
	}
	out := append(slices.Clone(lines[:end+1]), entryLines(indent, in)...)
	return strings.Join(append(out, lines[end+1:]...), "\n"), nil
}

// sameButPlugin checks that updated decodes to old with in declared, and
// nothing else changed.
func sameButPlugin(old, updated []byte, in Installed) error {
	var want, got map[string]any
	if err := yaml.Unmarshal(old, &want); err != nil {
		return fmt.Errorf("decoding the old file: %w", err)
	}
	if err := yaml.Unmarshal(updated, &got); err != nil {
		return fmt.Errorf("decoding the new file: %w", err)
	}
	if want == nil {
		want = map[string]any{}
	}
	list, _ := want["plugins"].([]any)
	found := false
	for _, e := range list {
		m, ok := e.(map[string]any)
		if ok && m["name"] == in.Name {
			m["path"], m["sha256"], found = in.Path, in.SHA256, true
		}
	}
	if !found {
		list = append(list, map[string]any{"name": in.Name, "path": in.Path, "sha256": in.SHA256})
	}
	want["plugins"] = list
	if !reflect.DeepEqual(want, got) {
		return errors.New("rewriting the file would change more than the plugin's entry")
	}
	return nil
}
