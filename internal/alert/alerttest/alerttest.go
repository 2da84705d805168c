// Package alerttest has local stand-ins for alert destinations, for
// tests: a Slack-compatible incoming-webhook receiver and a real SMTP
// server (emersion/go-smtp) with STARTTLS and PLAIN auth on loopback.
package alerttest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Credentials the SMTP server accepts.
const (
	User     = "alerts"
	Password = "s3cret-pass"
)

// SlackReceiver is a local stand-in for Slack's incoming webhooks: it
// checks the payload as Slack does (JSON with text or blocks) and answers
// "ok", or 500 while down.
type SlackReceiver struct {
	mu   sync.Mutex
	down bool
	got  []map[string]any
}

// ServeHTTP implements http.Handler.
func (s *SlackReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		http.Error(w, "internal_error", http.StatusInternalServerError)
		return
	}
	var m map[string]any
	if r.Header.Get("Content-Type") != "application/json" || json.NewDecoder(r.Body).Decode(&m) != nil || (m["text"] == nil && m["blocks"] == nil) {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.got = append(s.got, m)
	io.WriteString(w, "ok")
}

// SetDown makes the receiver answer 500 (true) or accept again.
func (s *SlackReceiver) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Messages returns the messages accepted so far.
func (s *SlackReceiver) Messages() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.got...)
}

// Mailbox is a go-smtp backend keeping what it receives and whether each
// message came over TLS.
type Mailbox struct {
	mu   sync.Mutex
	msgs []Mail
}

type Mail struct {
	From string
	To   []string
	Data string
	TLS  bool   // came over STARTTLS
	User string // authenticated as
}

type session struct {
	box  *Mailbox
	conn *smtp.Conn
	cur  Mail
}

// NewSession implements smtp.Backend.
func (b *Mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{box: b, conn: c}, nil
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != User || pass != Password {
			return errors.New("bad credentials")
		}
		s.cur.User = user
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.cur.From = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.cur.Data = string(b)
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, s.cur)
	s.box.mu.Unlock()
	s.cur = Mail{User: s.cur.User}
	return nil
}
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// All returns the messages received so far.
func (b *Mailbox) All() []Mail {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Mail(nil), b.msgs...)
}

// StartSMTP serves a real SMTP server with STARTTLS on loopback and
// returns its address and a client TLS config trusting its certificate.
func StartSMTP(t *testing.T, box *Mailbox) (string, *tls.Config) {
	addr, cfg, _ := StartSMTPWithCA(t, box)
	return addr, cfg
}

// StartSMTPWithCA is StartSMTP that also returns the server's
// certificate in PEM, for a client configured with a CA file.
func StartSMTPWithCA(t *testing.T, box *Mailbox) (string, *tls.Config, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	srv := smtp.NewServer(box)
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), &tls.Config{RootCAs: pool}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
