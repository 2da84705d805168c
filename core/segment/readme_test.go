package segment

import (
	"os"
	"strings"
	"testing"
)

// The example in README.md parses and builds an engine.
func TestREADMEExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "```yaml\n")
	end := strings.Index(s[start+8:], "```")
	if start < 0 || end < 0 {
		t.Fatal("no yaml block in README.md")
	}
	defs, err := ParseDefinitions(decodeYAML(t, s[start+8:start+8+end]))
	if err != nil {
		t.Fatalf("README example: %v", err)
	}
	if _, err := NewEngine(defs, Options{}); err != nil {
		t.Fatal(err)
	}
	if len(defs) != 8 {
		t.Errorf("%d definitions", len(defs))
	}
}
