package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/store"
)

const (
	sessionCookie = "segconn_session"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"
	sessionTTL    = 12 * time.Hour
)

// principal is who a request acts as.
type principal struct {
	Name  string
	Role  string
	CSRF  string // the session's CSRF token; "" for API tokens
	Token bool   // authenticated by an API token
}

func (p *principal) admin() bool { return p != nil && p.Role == config.RoleAdmin }

// Admin reports whether the principal has the admin role (for pages).
func (p *principal) Admin() bool { return p.admin() }

// sessions are kept in the store (by the SHA-256 of the cookie, never
// the cookie itself), so a restart or another replica over the same
// database keeps everyone signed in.
type sessions struct {
	st  store.WebState
	now func() time.Time
}

func newSessions(st store.WebState, now func() time.Time) *sessions {
	return &sessions{st: st, now: now}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(h[:])
}

// create starts a session and returns its cookie value.
func (s *sessions) create(ctx context.Context, name, role string) (string, error) {
	id := randomToken()
	err := s.st.SessionPut(ctx, store.WebSession{Key: sessionKey(id), Name: name, Role: role, CSRF: randomToken(), Expires: s.now().Add(sessionTTL)})
	return id, err
}

// get returns the session's principal, or nil when there is none (or
// it cannot be read, which is logged by the caller's 401).
func (s *sessions) get(ctx context.Context, cookie string) (*principal, error) {
	ss, err := s.st.Session(ctx, sessionKey(cookie), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &principal{Name: ss.Name, Role: ss.Role, CSRF: ss.CSRF}, nil
}

// delete ends a session (and sweeps the expired ones).
func (s *sessions) delete(ctx context.Context, cookie string) error {
	return s.st.SessionDelete(ctx, sessionKey(cookie), s.now())
}

// loginLimiter allows each client address a few login attempts a
// minute, and every address together a bounded rate, so a password
// cannot be guessed quickly from one or many addresses.
type loginLimiter struct {
	mu     sync.Mutex
	per    map[string]*rate.Limiter
	global *rate.Limiter
}

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{per: map[string]*rate.Limiter{}, global: rate.NewLimiter(rate.Every(time.Second), 20)}
}

func (l *loginLimiter) allow(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.per[host]
	if !ok {
		if len(l.per) > 10000 { // bound memory under a spray of addresses
			l.per = map[string]*rate.Limiter{}
		}
		lim = rate.NewLimiter(rate.Every(12*time.Second), 5)
		l.per[host] = lim
	}
	return lim.Allow() && l.global.Allow()
}

// checkPassword returns the user whose name and password match, or nil.
// dummy is a hash compared against when the user does not exist, so a
// wrong name takes as long as a wrong password.
func checkPassword(users []config.User, dummy []byte, name, password string) *config.User {
	for i := range users {
		if users[i].Name == name {
			if bcrypt.CompareHashAndPassword([]byte(users[i].PasswordHash), []byte(password)) == nil {
				return &users[i]
			}
			return nil
		}
	}
	_ = bcrypt.CompareHashAndPassword(dummy, []byte(password))
	return nil
}

// HashPassword returns the bcrypt hash `users add` writes to the config.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(h), err
}

// bearer returns the API token's principal, or nil.
func bearer(tokens []config.APIToken, r *http.Request) *principal {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return nil
	}
	got := sha256.Sum256([]byte(h[len(prefix):]))
	for _, t := range tokens {
		want := sha256.Sum256([]byte(t.Token))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return &principal{Name: t.Name, Role: t.Role, Token: true}
		}
	}
	return nil
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// csrfOK checks a session's token on a state-changing request: in the
// X-CSRF-Token header (fetch) or the csrf_token form field (forms).
func csrfOK(p *principal, r *http.Request) bool {
	if p.Token || safeMethod(r.Method) {
		return true
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) == 1
}
