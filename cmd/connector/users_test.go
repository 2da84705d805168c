package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/segconn/connector/internal/config"
)

// TestUsersAddPrintsAWorkingEntry checks that `users add` prints an entry
// the configuration accepts, whose hash matches the password it shows.
func TestUsersAddPrintsAWorkingEntry(t *testing.T) {
	code, out, errs := runCLI(t, nil, "users", "add", "alice", "--role", "admin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := regexp.MustCompile(`password for alice \(shown once\): (\S+)`).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("no password on stderr: %q", errs)
	}
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := config.Load(config.Source{File: file})
	if err != nil {
		t.Fatalf("the printed entry does not load: %v\n%s", err, out)
	}
	if len(l.Users) != 1 || l.Users[0].Name != "alice" || l.Users[0].Role != config.RoleAdmin {
		t.Fatalf("loaded users %+v", l.Users)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(l.Users[0].PasswordHash), []byte(m[1])); err != nil {
		t.Errorf("the hash does not match the password shown: %v", err)
	}
	if code, _, _ := runCLI(t, nil, "users", "add", "bob", "--role", "owner"); code == 0 {
		t.Error("--role owner was accepted")
	}
}
