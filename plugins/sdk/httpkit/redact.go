package httpkit

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Redacted replaces secrets in logs and errors.
const Redacted = "REDACTED"

// secretParams are query parameters that carry credentials on the
// platforms we speak to (WooCommerce query-string keys, OAuth 1.0a, legacy
// HubSpot API keys, OAuth flows).
var secretParams = [...]string{
	"consumer_key", "consumer_secret", "oauth_signature", "oauth_token",
	"access_token", "refresh_token", "client_secret", "hapikey", "api_key",
	"apikey", "token", "password", "code", "assertion",
}

// Redactor removes secret values from strings and URLs.
type Redactor struct {
	secrets []string
}

// NewRedactor returns a Redactor for the given secret values; empty and
// very short values (under 4 bytes) are ignored, as redacting them would
// mangle ordinary text.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		if len(s) >= 4 {
			r.secrets = append(r.secrets, s)
		}
	}
	return r
}

// String replaces every known secret in s, and the values of secret query
// parameters in any URL-looking text.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, Redacted)
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, Redacted)
		}
	}
	for _, p := range secretParams {
		s = redactParam(s, p)
	}
	return s
}

func redactParam(s, name string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, name+"=")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		if i > 0 && s[i-1] != '?' && s[i-1] != '&' && s[i-1] != ' ' && s[i-1] != '"' {
			b.WriteString(s[:i+len(name)+1])
			s = s[i+len(name)+1:]
			continue
		}
		b.WriteString(s[:i+len(name)+1])
		s = s[i+len(name)+1:]
		end := strings.IndexAny(s, "&\" \n")
		if end < 0 {
			end = len(s)
		}
		if end > 0 {
			b.WriteString(Redacted)
		}
		s = s[end:]
	}
}

// URL renders u without its user info or secret query values.
func (r *Redactor) URL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		c.User = url.User(Redacted)
	}
	return r.String(c.String())
}

// slogAdapter lets retryablehttp log through slog, redacting every value.
type slogAdapter struct {
	log *slog.Logger
	r   *Redactor
}

func (a *slogAdapter) args(kv []any) []any {
	out := make([]any, len(kv))
	for i, v := range kv {
		switch x := v.(type) {
		case string:
			out[i] = a.r.String(x)
		case error:
			out[i] = a.r.String(x.Error())
		case fmt.Stringer:
			out[i] = a.r.String(x.String())
		default:
			out[i] = v
		}
	}
	return out
}

func (a *slogAdapter) Error(msg string, kv ...any) { a.log.Error(a.r.String(msg), a.args(kv)...) }
func (a *slogAdapter) Info(msg string, kv ...any)  { a.log.Debug(a.r.String(msg), a.args(kv)...) }
func (a *slogAdapter) Debug(msg string, kv ...any) { a.log.Debug(a.r.String(msg), a.args(kv)...) }
func (a *slogAdapter) Warn(msg string, kv ...any)  { a.log.Warn(a.r.String(msg), a.args(kv)...) }
