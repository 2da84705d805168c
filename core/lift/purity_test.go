package lift

import (
	"strings"
	"testing"

	"github.com/segconn/connector/internal/testenv"
)

// The statistics are pure: no I/O, no clock, no package-level variables,
// random draws only from the seeded source.
func TestPackageIsPure(t *testing.T) {
	testenv.CheckPure(t, testenv.Purity{AllowImport: func(p string) bool { return strings.HasPrefix(p, "gonum.org/") }})
}
