package config

import (
	"fmt"
	"strings"
)

// DefaultAdminListen is where the web app listens unless
// server.admin_listen says otherwise: loopback only, so nobody reaches
// it from another machine until an operator decides so.
const DefaultAdminListen = "127.0.0.1:8081"

// Roles a user or API token may have.
const (
	RoleViewer = "viewer" // reads everything the app shows
	RoleAdmin  = "admin"  // also makes and applies plans
)

// User may sign in to the web app.
type User struct {
	Name string `koanf:"name"`
	Role string `koanf:"role"` // viewer or admin
	// PasswordHash is a bcrypt hash ($2a$/$2b$/$2y$), as
	// `connector users add` prints it; never the password itself.
	PasswordHash string `koanf:"password_hash"`
}

// APIToken authenticates automation: `Authorization: Bearer <token>`.
type APIToken struct {
	Name  string `koanf:"name"`
	Role  string `koanf:"role"`  // viewer or admin
	Token string `koanf:"token"` // a secret; token_file reads it from a file
}

// MinAPITokenLength is the shortest API token accepted, so a token
// cannot be guessed.
const MinAPITokenLength = 24

func (c *Config) validateWeb() Problems {
	var ps Problems
	names := map[string]bool{}
	for i, u := range c.Users {
		path := fmt.Sprintf("users[%d]", i)
		if u.Name == "" {
			ps = append(ps, Problem{path + ".name", "required"})
		} else if names[u.Name] {
			ps = append(ps, Problem{path + ".name", fmt.Sprintf("%q is named twice", u.Name)})
		}
		names[u.Name] = true
		if u.Role != RoleViewer && u.Role != RoleAdmin {
			ps = append(ps, Problem{path + ".role", fmt.Sprintf("must be viewer or admin; got %q", u.Role)})
		}
		if !isBcrypt(u.PasswordHash) {
			ps = append(ps, Problem{path + ".password_hash", "required: a bcrypt hash as `connector users add` prints it"})
		}
	}
	for i, t := range c.APITokens {
		path := fmt.Sprintf("api_tokens[%d]", i)
		if t.Name == "" {
			ps = append(ps, Problem{path + ".name", "required"})
		}
		if t.Role != RoleViewer && t.Role != RoleAdmin {
			ps = append(ps, Problem{path + ".role", fmt.Sprintf("must be viewer or admin; got %q", t.Role)})
		}
		if len(t.Token) < MinAPITokenLength {
			ps = append(ps, Problem{path + ".token", fmt.Sprintf("must be at least %d characters", MinAPITokenLength)})
		}
	}
	if c.Server.AdminListen != "" && c.Server.AdminListen == c.Server.Listen {
		ps = append(ps, Problem{"server.admin_listen", "must differ from server.listen: the web app is kept off the public webhook listener"})
	}
	return ps
}

func isBcrypt(h string) bool {
	return len(h) == 60 && (strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$"))
}
