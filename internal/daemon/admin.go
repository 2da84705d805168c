package daemon

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/segconn/connector/internal/web"
)

// metricsHandler serves the metrics, behind server.metrics_token when
// one is configured.
func (d *Daemon) metricsHandler() http.Handler {
	h := promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{})
	token := d.app.Config.Server.MetricsToken
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "metrics need the bearer token (server.metrics_token)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// startAdmin serves the web app on its own listener: Options.AdminListener,
// or server.admin_listen; neither means no web app.
func (d *Daemon) startAdmin() error {
	ln := d.opts.AdminListener
	addr := d.app.Config.Server.AdminListen
	if ln == nil && addr == "" {
		return nil
	}
	srv, err := web.New(d.app, web.Options{Health: d.opts.Health, Now: d.opts.Now})
	if err != nil {
		return fmt.Errorf("preparing the web app: %w", err)
	}
	if ln == nil {
		ln, err = net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listening on server.admin_listen %s: %w", addr, err)
		}
	}
	d.adminLn = ln
	d.admin = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.admin.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("serving the web app", "err", err)
		}
	}()
	if len(d.app.Config.Users) == 0 && len(d.app.Config.APITokens) == 0 {
		d.log.Warn("the web app has no users: add one with `connector users add NAME --role admin`", "admin_listen", ln.Addr().String())
	}
	d.log.Info("web app listening", "admin_listen", ln.Addr().String())
	return nil
}

// AdminAddr returns the web app's address once Run has started, or ""
// when it is off.
func (d *Daemon) AdminAddr() string {
	<-d.ready
	if d.adminLn == nil {
		return ""
	}
	return d.adminLn.Addr().String()
}

func (d *Daemon) stopAdmin(ctx context.Context) {
	if d.admin == nil {
		return
	}
	if err := d.admin.Shutdown(ctx); err != nil {
		d.log.Warn("stopping the web app", "err", err)
	}
}
