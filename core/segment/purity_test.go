package segment

import (
	"strings"
	"testing"

	"github.com/segconn/connector/internal/testenv"
)

// The engine is pure: no I/O, no clock, no logging, no package-level
// variables, no global random source.
func TestPackageIsPure(t *testing.T) {
	testenv.CheckPure(t, testenv.Purity{AllowImport: func(p string) bool {
		return strings.HasPrefix(p, "gonum.org/") || strings.HasPrefix(p, "github.com/expr-lang/expr") ||
			p == "github.com/segconn/connector/core/clv" || p == "github.com/segconn/connector/plugins/sdk/domain"
	}})
}
