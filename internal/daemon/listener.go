package daemon

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServerLimits bound what one client can take of the public listener,
// which faces the internet: how long a request may take to arrive and
// its answer to leave, how long an idle keep-alive connection stays, how
// many connections one address may hold at once, and how often a
// rejected webhook is logged. A zero field takes its default.
type ServerLimits struct {
	// ReadHeaderTimeout bounds reading a request's headers (default 10s).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (default
	// 30s): a client trickling its body is cut off.
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its answer (default 60s).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (default
	// 120s).
	IdleTimeout time.Duration
	// MaxConnsPerIP caps the connections one remote address may hold
	// open; more are closed as soon as they are accepted (default 64,
	// negative for no cap). Behind a reverse proxy every connection comes
	// from the proxy: raise it there, or cap at the proxy.
	MaxConnsPerIP int
	// RejectLogInterval is the window of the rejected-webhook log: at
	// most one line per remote address and 20 lines in all per window,
	// then one line counting the rest (default 10s).
	RejectLogInterval time.Duration
}

func (l ServerLimits) withDefaults() ServerLimits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, 10*time.Second)
	def(&l.ReadTimeout, 30*time.Second)
	def(&l.WriteTimeout, 60*time.Second)
	def(&l.IdleTimeout, 120*time.Second)
	def(&l.RejectLogInterval, 10*time.Second)
	if l.MaxConnsPerIP == 0 {
		l.MaxConnsPerIP = 64
	}
	return l
}

// newServer builds the public HTTP server with the limits' timeouts.
func newServer(h http.Handler, l ServerLimits, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		// The server's own complaints (TLS handshakes, bad requests) are
		// as attacker-driven as rejected webhooks: debug only.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

// perIPListener closes connections beyond max per remote address as soon
// as they are accepted.
type perIPListener struct {
	net.Listener
	max      int
	onReject func(ip string)

	mu   sync.Mutex
	open map[string]int
}

func limitPerIP(ln net.Listener, max int, onReject func(ip string)) net.Listener {
	if max < 0 {
		return ln
	}
	return &perIPListener{Listener: ln, max: max, onReject: onReject, open: map[string]int{}}
}

// Accept implements net.Listener.
func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c.RemoteAddr())
		l.mu.Lock()
		over := l.open[ip] >= l.max
		if !over {
			l.open[ip]++
		}
		l.mu.Unlock()
		if over {
			_ = c.Close()
			l.onReject(ip)
			continue
		}
		return &countedConn{Conn: c, release: func() { l.release(ip) }}, nil
	}
}

func (l *perIPListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// countedConn gives its slot back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

// Close implements net.Conn.
func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// remoteAddrIP is remoteIP of an http.Request's RemoteAddr.
func remoteAddrIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

func remoteIP(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// sampledLog writes the warnings that anyone on the internet can cause
// (forged webhooks, connection floods) at a bounded rate: per window, the
// first line of each remote address, at most maxLines in all, and one
// line counting what it held back, so a flood costs a few lines, not a
// line per request.
type sampledLog struct {
	log      *slog.Logger
	every    time.Duration
	maxLines int
	maxKeys  int

	mu         sync.Mutex
	start      time.Time
	seen       map[string]bool
	lines      int
	suppressed int
	fromKeys   map[string]bool
}

func newSampledLog(log *slog.Logger, every time.Duration) *sampledLog {
	return &sampledLog{log: log, every: every, maxLines: 20, maxKeys: 10000, seen: map[string]bool{}, fromKeys: map[string]bool{}}
}

// warn logs msg with attrs unless the window's budget for key, or in all,
// is spent; then it only counts it.
func (s *sampledLog) warn(ctx context.Context, key, msg string, attrs ...any) {
	now := time.Now()
	s.mu.Lock()
	summary := s.rollLocked(now)
	write := !s.seen[key] && s.lines < s.maxLines
	if write {
		s.lines++
	} else {
		s.suppressed++
		if len(s.fromKeys) < s.maxKeys {
			s.fromKeys[key] = true
		}
	}
	if len(s.seen) < s.maxKeys {
		s.seen[key] = true
	}
	s.mu.Unlock()
	summary(ctx)
	if write {
		s.log.WarnContext(ctx, msg, attrs...)
	}
}

// flush writes the count of a finished window's held-back lines.
func (s *sampledLog) flush(ctx context.Context) {
	s.mu.Lock()
	summary := s.rollLocked(time.Now())
	s.mu.Unlock()
	summary(ctx)
}

// rollLocked starts a new window when the current one is over and
// returns what writes the old one's summary.
func (s *sampledLog) rollLocked(now time.Time) func(context.Context) {
	if now.Sub(s.start) < s.every {
		return func(context.Context) {}
	}
	n, keys, since := s.suppressed, len(s.fromKeys), s.start
	s.start, s.lines, s.suppressed = now, 0, 0
	clear(s.seen)
	clear(s.fromKeys)
	if n == 0 {
		return func(context.Context) {}
	}
	return func(ctx context.Context) {
		s.log.WarnContext(ctx, "more rejected requests, not logged one by one", "count", n, "remotes", keys,
			"since", since.UTC().Format(time.RFC3339))
	}
}
