package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"

	"github.com/segconn/connector/internal/config"
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

type session struct {
	principal
	expires time.Time
}

// sessions are kept in memory: a restart signs everyone out, which is
// acceptable for an operator tool and keeps no secret on disk.
type sessions struct {
	mu  sync.Mutex
	m   map[string]*session // by sha256 of the cookie value
	now func() time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{m: map[string]*session{}, now: now}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(cookie string) string {
	h := sha256.Sum256([]byte(cookie))
	return string(h[:])
}

// create starts a session and returns its cookie value.
func (s *sessions) create(name, role string) (string, *session) {
	id := randomToken()
	ss := &session{principal: principal{Name: name, Role: role, CSRF: randomToken()}, expires: s.now().Add(sessionTTL)}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m { // sweep expired sessions while here
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[sessionKey(id)] = ss
	return id, ss
}

func (s *sessions) get(cookie string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[sessionKey(cookie)]
	if !ok || s.now().After(ss.expires) {
		return nil
	}
	return ss
}

func (s *sessions) delete(cookie string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sessionKey(cookie))
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
