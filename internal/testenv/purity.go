package testenv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Purity says what a pure package may use beyond the standard library's
// computation: imports (paths with a dot, i.e. outside the standard
// library, and forbidden standard ones are refused unless allowed) and
// package-level variables (only sentinel errors named Err… unless
// allowed).
type Purity struct {
	AllowImport func(path string) bool
	AllowVar    func(name string) bool
}

// CheckPure reads the non-test Go files of the package in the current
// directory and fails t where one does I/O, logs, reads the clock, keeps
// package-level mutable state or draws from the global random source.
// Core packages run it as a plain test, which needs no linter config.
func CheckPure(t *testing.T, p Purity) {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := map[string]bool{"os": true, "net": true, "net/http": true, "database/sql": true, "log": true, "log/slog": true,
		"io/ioutil": true, "syscall": true, "os/exec": true, "unsafe": true}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			allowed := !strings.Contains(path, ".") || (p.AllowImport != nil && p.AllowImport(path))
			if forbidden[path] || !allowed {
				t.Errorf("%s imports %s", name, path)
			}
		}
		for _, decl := range f.Decls {
			g, ok := decl.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, spec := range g.Specs {
				for _, id := range spec.(*ast.ValueSpec).Names {
					if !strings.HasPrefix(id.Name, "Err") && (p.AllowVar == nil || !p.AllowVar(id.Name)) {
						t.Errorf("%s: package-level var %s at %s", name, id.Name, fset.Position(id.Pos()))
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			if id.Name == "time" && (sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
				t.Errorf("%s reads the clock at %s", name, fset.Position(sel.Pos()))
			}
			// randomness only from generators seeded by the caller
			if id.Name == "rand" && !strings.HasPrefix(sel.Sel.Name, "New") && sel.Sel.Name != "Rand" && sel.Sel.Name != "Source" && sel.Sel.Name != "PCG" {
				t.Errorf("%s uses the global random source (rand.%s) at %s", name, sel.Sel.Name, fset.Position(sel.Pos()))
			}
			return true
		})
	}
}
