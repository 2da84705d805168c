package clv

import (
	"strings"
	"testing"

	"github.com/segconn/connector/internal/testenv"
)

// The models are pure: no I/O, no clock, no logging, no package-level
// variables, no global random source.
func TestPackageIsPure(t *testing.T) {
	testenv.CheckPure(t, testenv.Purity{
		AllowImport: func(p string) bool { return strings.HasPrefix(p, "gonum.org/") },
		// the Gauss-Legendre table is computed once at init and only read
		AllowVar: func(name string) bool { return name == "gaussLegendre8" },
	})
}
