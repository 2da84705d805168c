package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
)

// TestSuppressionKeyPersistsAndIsChecked: without a configured secret the
// generated key outlives the process (the same email hashes the same after
// reopening); once a secret is configured, reopening with a different one
// is refused, since every earlier suppression would stop matching.
func TestSuppressionKeyPersistsAndIsChecked(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), sqlite.FileName)
	hashWith := func(opts store.Options) (string, error) {
		t.Helper()
		s, err := sqlite.Open(ctx, path, opts)
		if err != nil {
			return "", err
		}
		defer s.Close()
		return s.EmailHash("ann@example.com")
	}
	first, err := hashWith(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again, err := hashWith(store.Options{}); err != nil || again != first {
		t.Fatalf("after reopening the email hashes to %q (%v), before %q: the generated key was not kept", again, err, first)
	}
	secret := store.Options{SuppressionKey: []byte("the-configured-secret-1")}
	configured, err := hashWith(secret)
	if err != nil || configured == first {
		t.Fatalf("with a configured secret: %q (%v)", configured, err)
	}
	if again, err := hashWith(secret); err != nil || again != configured {
		t.Fatalf("the same secret hashes to %q (%v), before %q", again, err, configured)
	}
	_, err = hashWith(store.Options{SuppressionKey: []byte("a-different-secret-22")})
	if err == nil || !strings.Contains(err.Error(), "suppression_secret") {
		t.Fatalf("opening with a changed secret: %v; want it refused", err)
	}
}
