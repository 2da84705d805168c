// Package web is the connector's web app: the pages a shop owner runs the
// product from and the JSON API under /api/v1 they are built on, described
// by the OpenAPI document served at /api/v1/openapi.json.
//
// It is served on its own listener (server.admin_listen, loopback by
// default), never on the public webhook listener. Everything but the login
// page and the static assets needs a signed-in user (roles viewer and
// admin, bcrypt password hashes in the configuration) or an API token
// (Authorization: Bearer). Sessions are kept in the store, by the SHA-256
// of an HttpOnly, SameSite=Strict cookie (Secure over TLS or with
// server.secure_cookies), as are the plans made for review: both survive
// a restart, and every replica over one database shares them.
//
// State-changing requests are guarded twice. Go's
// http.CrossOriginProtection refuses browser requests from another origin
// by the Sec-Fetch-Site and Origin headers every current browser sends; it
// is in the standard library, so nothing to vendor. Because it lets
// through requests that carry neither header, a session's requests must
// also carry its per-session token (X-CSRF-Token header or csrf_token form
// field); API-token requests are exempt, as no browser sends a bearer
// token on its own. gorilla/csrf would give the token half only, with a
// second signed cookie to manage, so the two small checks here are used
// instead.
//
// The segment builder saves rule segments to the store's
// segment_definitions table, with the configuration as the default (a
// saved definition replaces a configured rule segment of its name),
// rather than to the configuration file: the file is the operator's, all
// replicas read one database, and each saved definition says who saved
// it. Saved segments are computed from the connector's next start (see
// internal/app); the builder's dry run shows the size over the current
// data at once.
//
// Charts use uPlot (MIT): about 50 kB minified, no dependencies, fast on
// a phone with thousands of points, and it draws the time series (segment
// sizes over time) and the line charts over categories of the Models
// page's checks. Its released build is fetched from the npm registry
// by `make uplot`, which checks its SHA-256, and is embedded with its
// licence so the binary works offline.
//
// uPlot draws no flow chart, and the migration page needs one (who moved
// from which segment to which between two dates, as a Sankey diagram,
// each band clickable through to its people). Apache ECharts (Apache-2.0,
// an Apache Software Foundation project with regular releases) draws
// Sankey diagrams with click events on bands and nodes, and renders to a
// canvas with its tooltips in the canvas too, so it needs nothing the
// app's Content-Security-Policy refuses. Its full build is about 1.1 MB,
// so only the migration page loads it. `make echarts` fetches its
// released, unmodified build from the npm registry, checks its SHA-256
// (whose SHA-512 is the registry's published integrity) and puts it beside
// its licence and notice; drawing a flow by hand, or bending uPlot's bars
// into one, would be a chart library of our own to maintain.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/health"
	"golang.org/x/crypto/bcrypt"
)

// Options tune a Server.
type Options struct {
	// Health, when set, reports each platform's connection state.
	Health func() []health.Status
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is the web app over an opened App.
type Server struct {
	app      *app.App
	log      *slog.Logger
	opts     Options
	sessions *sessions
	limiter  *loginLimiter
	dummy    []byte
	pages    *pages
	spec     *apiSpec

	mu sync.Mutex // serialises changes to a stored plan (its apply)

	modelsCache modelsCache
}

// New prepares the web app.
func New(a *app.App, opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte(randomToken()), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	pg, err := loadPages()
	if err != nil {
		return nil, err
	}
	spec, err := loadSpec()
	if err != nil {
		return nil, err
	}
	return &Server{
		app: a, log: a.Log.With("component", "web"), opts: opts,
		sessions: newSessions(a.Store, opts.Now), limiter: newLoginLimiter(), dummy: dummy, pages: pg, spec: spec,
	}, nil
}

type ctxKey struct{}

func who(ctx context.Context) *principal {
	p, _ := ctx.Value(ctxKey{}).(*principal)
	return p
}

// Handler returns every route of the web app.
func (s *Server) Handler() http.Handler {
	open := http.NewServeMux()
	open.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	open.HandleFunc("GET /login", s.loginPage)
	open.HandleFunc("POST /login", s.login)
	open.HandleFunc("GET /api/v1/openapi.json", s.serveSpec)
	open.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })

	authed := http.NewServeMux()
	s.apiRoutes(authed)
	s.pageRoutes(authed)
	s.earnRoutes(authed)
	s.opsRoutes(authed)
	authed.HandleFunc("POST /logout", s.logout)

	mux := http.NewServeMux()
	mux.Handle("/static/", open)
	mux.Handle("/login", open)
	mux.Handle("/api/v1/openapi.json", open)
	mux.Handle("/healthz", open)
	mux.Handle("/", s.requireAuth(authed))
	return s.secureHeaders(http.NewCrossOriginProtection().Handler(mux))
}

func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		next.ServeHTTP(w, r)
	})
}

func isAPI(r *http.Request) bool {
	return len(r.URL.Path) >= 7 && r.URL.Path[:7] == "/api/v1"
}

// requireAuth resolves the principal; without one the API answers 401
// and pages redirect to the login page. It checks the CSRF token of
// every state-changing request made with a session.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := bearer(s.app.Config.APITokens, r)
		if p == nil {
			if c, err := r.Cookie(sessionCookie); err == nil {
				var serr error
				if p, serr = s.sessions.get(r.Context(), c.Value); serr != nil {
					s.log.Error("reading a session", "err", serr)
				}
			}
		}
		if p == nil {
			if isAPI(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="connector"`)
				writeError(w, http.StatusUnauthorized, "sign in or send an API token")
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		if !csrfOK(p, r) {
			if isAPI(r) {
				writeError(w, http.StatusForbidden, "missing or wrong CSRF token")
				return
			}
			http.Error(w, "missing or wrong CSRF token; reload the page", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, p)))
	})
}

func (s *Server) secureCookie(r *http.Request) bool {
	return r.TLS != nil || s.app.Config.Server.SecureCookies
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.limiter.allow(r.RemoteAddr) {
		s.log.Warn("login rate limited")
		w.Header().Set("Retry-After", "15")
		s.renderLogin(w, http.StatusTooManyRequests, "Too many attempts; wait a minute and try again.")
		return
	}
	name, password := r.PostFormValue("username"), r.PostFormValue("password")
	u := checkPassword(s.app.Config.Users, s.dummy, name, password)
	if u == nil {
		s.log.Info("login refused")
		s.renderLogin(w, http.StatusUnauthorized, "Wrong name or password.")
		return
	}
	id, err := s.sessions.create(r.Context(), u.Name, u.Role)
	if err != nil {
		s.log.Error("starting a session", "err", err)
		s.renderLogin(w, http.StatusInternalServerError, "Could not sign you in; the connector's log says why.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: s.secureCookie(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL / time.Second)})
	s.log.Info("signed in", "user", u.Name, "role", u.Role)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.sessions.delete(r.Context(), c.Value); err != nil {
			s.log.Error("ending a session", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.secureCookie(r),
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
