package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// Email sends alerts by SMTP submission. STARTTLS is required unless
// Insecure is set (for a relay on the same host); PLAIN auth is used when
// Username is set, and only over TLS or to localhost (net/smtp refuses
// otherwise).
type Email struct {
	Addr     string // host:port of the SMTP server, usually port 587
	From     string
	To       []string
	Username string
	Password string // a secret: never logged
	// TLS overrides the TLS settings (a private CA, say); ServerName
	// defaults to Addr's host.
	TLS *tls.Config
	// Timeout bounds the whole exchange; default 30 s.
	Timeout time.Duration
	// Insecure allows a server that does not offer STARTTLS.
	Insecure bool
}

// Name implements Notifier.
func (e *Email) Name() string { return "email" }

// Notify implements Notifier.
func (e *Email) Notify(ctx context.Context, a Alert) error {
	return e.deliver(ctx, e.message(a))
}

// deliver sends one RFC 5322 message to every recipient.
func (e *Email) deliver(ctx context.Context, msg []byte) error {
	if len(e.To) == 0 {
		return errors.New("email: no recipients configured")
	}
	host, _, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return fmt.Errorf("email: server address %q: %w", e.Addr, err)
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", e.Addr)
	if err != nil {
		return fmt.Errorf("email: connecting to %s: %w", e.Addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return fmt.Errorf("email: greeting from %s: %w", e.Addr, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("email: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if e.TLS != nil {
			cfg = e.TLS.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = host
			}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("email: STARTTLS: %w", err)
		}
	} else if !e.Insecure {
		return fmt.Errorf("email: %s does not offer STARTTLS; refusing to send in the clear (set insecure for a local relay)", e.Addr)
	}
	if e.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, host)); err != nil {
			return fmt.Errorf("email: authenticating as %s: %w", e.Username, err)
		}
	}
	if err := c.Mail(e.From); err != nil {
		return fmt.Errorf("email: MAIL FROM: %w", err)
	}
	for _, to := range e.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("email: RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("email: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("email: writing the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("email: the server did not accept the message: %w", err)
	}
	return c.Quit()
}

// headers writes the headers every message shares.
func (e *Email) headers(b *bytes.Buffer, subject string, at time.Time) {
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	domain := "connector.local"
	if i := strings.LastIndexByte(e.From, '@'); i >= 0 {
		domain = e.From[i+1:]
	}
	hdr := func(k, v string) { fmt.Fprintf(b, "%s: %s\r\n", k, v) }
	hdr("From", e.From)
	hdr("To", strings.Join(e.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", "[connector] "+subject))
	hdr("Date", at.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	hdr("MIME-Version", "1.0")
}

// message is the RFC 5322 message for a: plain text, UTF-8.
func (e *Email) message(a Alert) []byte {
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	e.headers(&b, a.Title(), a.At)
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "8bit")
	b.WriteString("\r\n")
	body := a.Summary + "\n"
	if a.Detail != "" {
		body += "\n" + a.Detail + "\n"
	}
	body += fmt.Sprintf("\nRule: %s\nStatus: %s\nSince: %s\n", a.Rule, a.Status, a.Since.UTC().Format(time.RFC3339))
	b.WriteString(strings.ReplaceAll(body, "\n", "\r\n"))
	return b.Bytes()
}
