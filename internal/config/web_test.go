package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/config"
)

func TestWebSettings(t *testing.T) {
	load := func(t *testing.T, body string) (*config.Loaded, error) {
		t.Helper()
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return config.Load(config.Source{File: p})
	}
	t.Run("DefaultsToLoopback", func(t *testing.T) {
		l, err := load(t, "log: {level: info}\n")
		if err != nil {
			t.Fatal(err)
		}
		if l.Server.AdminListen != config.DefaultAdminListen || !strings.HasPrefix(l.Server.AdminListen, "127.0.0.1:") {
			t.Errorf("admin_listen defaults to %q", l.Server.AdminListen)
		}
	})
	t.Run("ProblemsNameTheirPaths", func(t *testing.T) {
		_, err := load(t, `
server: {listen: "127.0.0.1:9000", admin_listen: "127.0.0.1:9000", metrics_token: "x"}
users:
  - {name: ann, role: owner, password_hash: "plain"}
  - {name: ann, role: viewer, password_hash: "$2a$10$7EqJtq98hPqEX7fNZaFWoO5jL5mC8rjQ3tRlNzYc3XQ6zHqJYVZ1y"}
api_tokens:
  - {name: ci, role: admin, token: short}
`)
		var ps config.Problems
		if !errors.As(err, &ps) {
			t.Fatalf("want problems, got %v", err)
		}
		got := map[string]bool{}
		for _, p := range ps {
			got[p.Path] = true
		}
		for _, want := range []string{"server.admin_listen", "users[0].role", "users[0].password_hash", "users[1].name", "api_tokens[0].token"} {
			if !got[want] {
				t.Errorf("no problem at %s; got %v", want, ps)
			}
		}
	})
}
