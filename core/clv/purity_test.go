package clv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The models are pure: no I/O, no clock, no logging, no package-level
// variables. This test reads the package's own source to keep it so.
func TestPackageIsPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := map[string]bool{"os": true, "net": true, "net/http": true, "database/sql": true, "log": true, "log/slog": true, "io/ioutil": true, "syscall": true, "os/exec": true, "unsafe": true}
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
			allowed := !strings.Contains(path, ".") || strings.HasPrefix(path, "gonum.org/")
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
					// sentinel errors, and the Gauss-Legendre table computed
					// once at init and only read, are the exceptions
					if !strings.HasPrefix(id.Name, "Err") && id.Name != "gaussLegendre8" {
						t.Errorf("%s: package-level var %s at %s", name, id.Name, fset.Position(id.Pos()))
					}
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "time" && (sel.Sel.Name == "Now" || sel.Sel.Name == "Since" || sel.Sel.Name == "Until") {
					t.Errorf("%s reads the clock at %s", name, fset.Position(sel.Pos()))
				}
				// randomness only from generators seeded by the caller
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "rand" && !strings.HasPrefix(sel.Sel.Name, "New") &&
					sel.Sel.Name != "Rand" && sel.Sel.Name != "Source" && sel.Sel.Name != "PCG" {
					t.Errorf("%s uses the global random source (rand.%s) at %s", name, sel.Sel.Name, fset.Position(sel.Pos()))
				}
			}
			return true
		})
	}
}
