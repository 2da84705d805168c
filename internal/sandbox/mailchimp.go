package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/mailchimp/mailchimpfake"
)

// Mailchimp is the Mailchimp plugin's platform in the sandbox. It is not
// one of Platforms: its adapter is a plugin, configured under plugins:
// rather than platforms:.
const Mailchimp = "mailchimp"

// startMailchimp serves a fake Mailchimp account on l whose audience is
// the business's newsletter list: every person, subscribed when they
// accept the newsletter and unsubscribed when they do not, their address
// in the casing they typed it (so identity resolution has work to do).
func (s *Sandbox) startMailchimp(l net.Listener) {
	f := mailchimpfake.New()
	f.APIKey = secretFor(s.seed, "mailchimp-api-key", 32) + "-us6"
	f.SetRoot("http://" + l.Addr().String())
	for i, per := range s.Data.People {
		status := "subscribed"
		if per.Attributes["newsletter"] == "false" {
			status = "unsubscribed"
		}
		email := per.Email
		if i%4 == 0 {
			email = strings.ToUpper(email[:1]) + email[1:]
		}
		changed := per.AcquiredAt
		if changed.IsZero() {
			changed = s.Data.AsOf
		}
		f.AddMember(email, per.FirstName, per.LastName, status, changed)
	}
	s.MailchimpFake = f
	webhookSecret := secretFor(s.seed, "mailchimp-webhook-secret", 24)
	s.mailchimp = Endpoint{Platform: Mailchimp, BaseURL: f.URL,
		Credentials: map[string]string{"api_key": f.APIKey, "list_id": f.ListID, "webhook_secret": webhookSecret},
		Config:      adapter.Config{"api_key": f.APIKey, "list_id": f.ListID, "base_url": f.URL, "webhook_secret": webhookSecret}}
	obs := &atomic.Pointer[func(*http.Request)]{}
	s.observers[Mailchimp] = obs
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn := obs.Load(); fn != nil {
			(*fn)(r)
		}
		f.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serving sandbox platform", "platform", Mailchimp, "error", err)
		}
	}()
}

// MailchimpEndpoint returns how to reach the fake Mailchimp account; ok
// is false unless Options.Mailchimp started it.
func (s *Sandbox) MailchimpEndpoint() (Endpoint, bool) {
	return s.mailchimp, s.MailchimpFake != nil
}

// MailchimpPlugin returns the plugins entry that runs the Mailchimp
// plugin against the fake: the executable exe run with args (the
// connector binary serves it with `plugin-serve mailchimp`; a separately
// built connector-mailchimp needs none), pinned to exe's digest.
func (s *Sandbox) MailchimpPlugin(exe string, args ...string) (config.Plugin, error) {
	e, ok := s.MailchimpEndpoint()
	if !ok {
		return config.Plugin{}, errors.New("the sandbox serves no Mailchimp account (Options.Mailchimp)")
	}
	sum, err := pluginhost.FileSHA256(exe)
	if err != nil {
		return config.Plugin{}, fmt.Errorf("pinning the Mailchimp plugin: %w", err)
	}
	cfg := adapter.Config{}
	for k, v := range e.Config {
		cfg[k] = v
	}
	return config.Plugin{Name: Mailchimp, Path: exe, SHA256: sum, Args: args, Config: cfg}, nil
}
