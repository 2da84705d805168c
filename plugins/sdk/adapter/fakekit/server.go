// Package fakekit is what the platform fakes have in common: the
// httptest-like lifecycle of a fake served on loopback (Server) and one
// vocabulary of injected failures (Fault, Faults) that says when a request
// fails and how the transport breaks.
//
// The kit decides only when a request fails and what happens on the wire
// (a status before or after the request took effect, a Retry-After header,
// a connection reset, a cut body, a page from a proxy in front of the
// platform). The body of a platform's own error answer stays the fake's:
// each fake passes a function that writes its platform's error for a
// status, so a HubSpot 429 still looks like HubSpot's and a Salesforce 503
// like Salesforce's.
//
// A fake embeds *Server for Start, StartTLS, URL, Client, Close, Serve,
// Handler and Wrap, and *Faults for Inject, SetRate, SetLatency and
// Served; its handler calls Faults.Handle at the point in its pipeline where
// the platform would fail (after authentication for one platform, before it
// for another). Only the standard library is used, and nothing is kept at
// package level: the fakes stay importable anywhere and several may run in
// one process.
package fakekit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves one fake's handler, like net/http/httptest.Server, with a
// hook (Wrap) that lets a caller see or alter every request on its way in.
type Server struct {
	base    http.Handler
	current atomic.Pointer[http.Handler]

	mu sync.Mutex
	ts *httptest.Server
}

// NewServer returns a stopped server for h, the fake's own handler.
func NewServer(h http.Handler) *Server {
	s := &Server{base: h}
	s.current.Store(&h)
	return s
}

// Handler returns the fake's handler behind the current Wrap, for mounting
// anywhere (a caller's own http.Server, a mux).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.current.Load()).ServeHTTP(w, r)
	})
}

// Wrap puts mw around the fake's handler for the requests that arrive from
// now on, including on a server already running; nil takes it away. Only
// one wrapper is in place at a time: the sandbox uses it to observe
// requests and the benchmarks to time them.
func (s *Server) Wrap(mw func(http.Handler) http.Handler) {
	h := s.base
	if mw != nil {
		h = mw(s.base)
	}
	s.current.Store(&h)
}

// Start serves the fake on a new loopback listener over plain HTTP and
// returns its base URL. Close stops it.
func (s *Server) Start() string { return s.start(httptest.NewServer) }

// StartTLS serves the fake over HTTPS with a test certificate and returns
// its base URL; Client returns an http.Client that trusts the certificate.
func (s *Server) StartTLS() string { return s.start(httptest.NewTLSServer) }

func (s *Server) start(newServer func(http.Handler) *httptest.Server) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts != nil {
		panic("fakekit: Start on a server already started")
	}
	s.ts = newServer(s.Handler())
	return s.ts.URL
}

// URL is the base URL of a started server, or "" before Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Client returns an http.Client for the started server (trusting its
// certificate after StartTLS), or http.DefaultClient before Start.
func (s *Server) Client() *http.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ts == nil {
		return http.DefaultClient
	}
	return s.ts.Client()
}

// Close stops a started server and waits for its requests to finish. It
// does nothing before Start and may be called twice.
func (s *Server) Close() {
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	if ts != nil {
		ts.Close()
	}
}

// Serve serves the fake on l until ctx ends, then shuts down gracefully
// (for a long-running process such as `connector sandbox`).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
			return
		}
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving fake on %s: %w", l.Addr(), err)
	}
	return nil
}
