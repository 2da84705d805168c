package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/plugins/klaviyo/klaviyofake"
	"github.com/segconn/connector/plugins/mailchimp/mailchimpfake"
	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// The platforms of the adapter plugins the sandbox can serve fakes for.
// They are not among Platforms: their adapters are plugins, configured
// under plugins: rather than platforms:.
const (
	Mailchimp = "mailchimp"
	Klaviyo   = "klaviyo"
	Marketo   = "marketo"
)

// startMailchimp serves a fake Mailchimp account on l whose audience is
// the business's newsletter list: every person, subscribed when they
// accept the newsletter and unsubscribed when they do not, some addresses
// in the casing they were typed in (so identity resolution has work).
func (s *Sandbox) startMailchimp(l net.Listener) {
	f := mailchimpfake.New()
	f.APIKey = secretFor(s.seed, "mailchimp-api-key", 32) + "-us6"
	f.SetRoot("http://" + l.Addr().String())
	for i, per := range s.Data.People {
		status := "subscribed"
		if per.Attributes["newsletter"] == "false" {
			status = "unsubscribed"
		}
		f.AddMember(typedEmail(i, per.Email), per.FirstName, per.LastName, status, s.acquired(per))
	}
	s.MailchimpFake = f
	webhookSecret := secretFor(s.seed, "mailchimp-webhook-secret", 24)
	s.plugins[Mailchimp] = Endpoint{Platform: Mailchimp, BaseURL: f.URL,
		Credentials: map[string]string{"api_key": f.APIKey, "list_id": f.ListID, "webhook_secret": webhookSecret},
		Config:      adapter.Config{"api_key": f.APIKey, "list_id": f.ListID, "base_url": f.URL, "webhook_secret": webhookSecret}}
	s.servePlugin(Mailchimp, l, f)
}

// startKlaviyo serves a fake Klaviyo account on l holding every person as
// a profile, their email marketing consent following their newsletter
// choice.
func (s *Sandbox) startKlaviyo(l net.Listener) {
	f := klaviyofake.New()
	f.APIKey = "pk_" + secretFor(s.seed, "klaviyo-api-key", 34)
	f.URL = "http://" + l.Addr().String()
	for i, per := range s.Data.People {
		consent := klaviyofake.Subscribed
		if per.Attributes["newsletter"] == "false" {
			consent = klaviyofake.Unsubscribed
		}
		f.AddProfile(typedEmail(i+1, per.Email), per.FirstName, per.LastName, consent, s.acquired(per))
	}
	s.KlaviyoFake = f
	s.plugins[Klaviyo] = Endpoint{Platform: Klaviyo, BaseURL: f.URL,
		Credentials: map[string]string{"api_key": f.APIKey},
		Config:      adapter.Config{"api_key": f.APIKey, "base_url": f.URL}}
	s.servePlugin(Klaviyo, l, f.Handler())
}

// startMarketo serves a fake Marketo Engage instance on l holding every
// person as a lead, created when they were acquired; a person acquired
// before the fake's clock (30 days ago) is created at the clock instead,
// so the lead-change activities stay in order and inside the plugin's
// history window.
func (s *Sandbox) startMarketo(l net.Listener) {
	f := marketofake.New()
	f.ClientID = "sandbox-" + secretFor(s.seed, "marketo-client-id", 12)
	f.ClientSecret = secretFor(s.seed, "marketo-client-secret", 32)
	f.URL = "http://" + l.Addr().String()
	for i, per := range s.Data.People {
		f.AddLead(typedEmail(i+2, per.Email), per.FirstName, per.LastName, s.acquired(per))
	}
	s.MarketoFake = f
	s.plugins[Marketo] = Endpoint{Platform: Marketo, BaseURL: f.URL,
		Credentials: map[string]string{"client_id": f.ClientID, "client_secret": f.ClientSecret},
		Config:      adapter.Config{"client_id": f.ClientID, "client_secret": f.ClientSecret, "base_url": f.URL}}
	s.servePlugin(Marketo, l, f.Handler())
}

// typedEmail is the address as a person typed it: every fourth with a
// capital first letter.
func typedEmail(i int, email string) string {
	if i%4 == 0 && email != "" {
		return strings.ToUpper(email[:1]) + email[1:]
	}
	return email
}

func (s *Sandbox) acquired(per Person) time.Time {
	if per.AcquiredAt.IsZero() {
		return s.Data.AsOf
	}
	return per.AcquiredAt
}

// servePlugin serves a plugin platform's fake on l behind an observer
// (see Observe).
func (s *Sandbox) servePlugin(name string, l net.Listener, next http.Handler) {
	obs := &atomic.Pointer[func(*http.Request)]{}
	s.pluginObservers[name] = obs
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fn := obs.Load(); fn != nil {
			(*fn)(r)
		}
		next.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serving sandbox platform", "platform", name, "error", err)
		}
	}()
}

// PluginEndpoint returns how to reach the fake of a plugin platform
// (Mailchimp, Klaviyo, Marketo); ok is false unless Options started it.
func (s *Sandbox) PluginEndpoint(name string) (Endpoint, bool) {
	e, ok := s.plugins[name]
	return e, ok
}

// pluginEndpoints returns the plugin platforms' endpoints, sorted.
func (s *Sandbox) pluginEndpoints() []Endpoint {
	out := make([]Endpoint, 0, len(s.plugins))
	for _, e := range s.plugins {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return strings.Compare(a.Platform, b.Platform) })
	return out
}

// MailchimpEndpoint is PluginEndpoint(Mailchimp).
func (s *Sandbox) MailchimpEndpoint() (Endpoint, bool) { return s.PluginEndpoint(Mailchimp) }

// PluginConfig returns the plugins entry that runs a plugin platform's
// adapter against its fake: the executable exe run with args (the
// connector binary serves Mailchimp with `plugin-serve mailchimp`; a
// separately built plugin needs none), pinned to exe's digest.
func (s *Sandbox) PluginConfig(name, exe string, args ...string) (config.Plugin, error) {
	e, ok := s.PluginEndpoint(name)
	if !ok {
		return config.Plugin{}, fmt.Errorf("the sandbox serves no %s account (see Options)", name)
	}
	sum, err := pluginhost.FileSHA256(exe)
	if err != nil {
		return config.Plugin{}, fmt.Errorf("pinning the %s plugin: %w", name, err)
	}
	cfg := adapter.Config{}
	for k, v := range e.Config {
		cfg[k] = v
	}
	return config.Plugin{Name: name, Path: exe, SHA256: sum, Args: args, Config: cfg}, nil
}

// MailchimpPlugin is PluginConfig(Mailchimp, exe, args...).
func (s *Sandbox) MailchimpPlugin(exe string, args ...string) (config.Plugin, error) {
	return s.PluginConfig(Mailchimp, exe, args...)
}
