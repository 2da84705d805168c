package testenv_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/testenv"
)

// outsideRef matches what product docs must not cite: files outside the
// repository (the shared data folder, a style guide, a published-results
// file) and the team's issue tracker. Tests may still read the data sets
// through testenv; only comments and Markdown are checked.
var outsideRef = regexp.MustCompile(`\.\./shared|STYLE\.md|PUBLISHED\.md|\bissues (show|list|all)\b|closing notes? of the issues`)

// machineNote matches notes on the load of the machine a measurement ran
// on; they belong in BENCHMARKS.md, beside the figures.
var machineNote = regexp.MustCompile(`(?i)load average|shared 2-core|load ≈`)

// docProblems lists the offending lines of text, which starts at line
// first of the file name.
func docProblems(name string, first int, text string) []string {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		if m := outsideRef.FindString(line); m != "" {
			out = append(out, fmt.Sprintf("%s:%d: cites something outside the repository: %q", name, first+i, m))
		}
		if m := machineNote.FindString(line); m != "" && filepath.Base(name) != "BENCHMARKS.md" {
			out = append(out, fmt.Sprintf("%s:%d: describes the machine a test ran on (BENCHMARKS.md is the place): %q", name, first+i, m))
		}
	}
	return out
}

func TestDocProblemsCatchesEachKind(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"// the files in ../shared/specs/hubspot",
		"own (STYLE.md suggested a separate module)",
		"// the 11 groups of PUBLISHED.md 5C",
		"The latest numbers are in `issues all`.",
		"see issues show 13",
		"The machine's load average was about 4.7.",
		"(2-core machine shared with other builds, load ≈ 10)",
	} {
		if got := docProblems("x.md", 1, bad); len(got) != 1 {
			t.Errorf("%q: %d problems, want 1: %v", bad, len(got), got)
		}
	}
	for _, fine := range []string{
		"Known issues with the platform are listed below.",
		"the CDNOW data set (Fader & Hardie)",
		"shared budget between the two governors",
	} {
		if got := docProblems("x.md", 1, fine); len(got) != 0 {
			t.Errorf("%q: flagged %v", fine, got)
		}
	}
	if got := docProblems("BENCHMARKS.md", 1, "load average 4.7"); len(got) != 0 {
		t.Errorf("BENCHMARKS.md may name the machine's load: %v", got)
	}
}

// TestDocsSpeakOfTheProductOnly: no Markdown file and no Go comment in the
// repository cites a file outside it or the issue tracker, and none but
// BENCHMARKS.md records the load of the machine a measurement ran on.
func TestDocsSpeakOfTheProductOnly(t *testing.T) {
	t.Parallel()
	root := testenv.RepoRoot(t)
	var problems []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "bin" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".md":
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			problems = append(problems, docProblems(rel, 1, string(b))...)
		case ".go":
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
			if err != nil {
				return fmt.Errorf("parsing %s: %w", rel, err)
			}
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					problems = append(problems, docProblems(rel, fset.Position(c.Pos()).Line, c.Text)...)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}
