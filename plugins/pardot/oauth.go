package pardot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// oauth is the Salesforce OAuth 2.0 refresh-token flow: an access token
// fetched on first use and again when a call answers 401 (an expired or
// revoked session, code 184), sent with the business unit header on
// every request (authentication.html).
type oauth struct {
	cfg Config
	hc  *http.Client

	mu    sync.Mutex
	token string

	refreshMu sync.Mutex // one token request at a time
}

// usedKey marks a call's context with where Apply notes the token sent,
// so that Refresh renews only a token that is still the current one:
// the five writers that all met the expired token share one renewal.
type usedKey struct{}

// withTokenNote returns ctx carrying a note of the token a call sends.
func withTokenNote(ctx context.Context) context.Context {
	return context.WithValue(ctx, usedKey{}, new(atomicString))
}

type atomicString struct {
	mu sync.Mutex
	s  string
}

func (a *atomicString) set(s string) { a.mu.Lock(); a.s = s; a.mu.Unlock() }
func (a *atomicString) get() string  { a.mu.Lock(); defer a.mu.Unlock(); return a.s }

// Apply implements httpkit.Auth.
func (a *oauth) Apply(ctx context.Context, req *http.Request) error {
	a.mu.Lock()
	tok := a.token
	a.mu.Unlock()
	if tok == "" {
		if err := a.Refresh(ctx); err != nil {
			return err
		}
		a.mu.Lock()
		tok = a.token
		a.mu.Unlock()
	}
	if n, ok := req.Context().Value(usedKey{}).(*atomicString); ok {
		n.set(tok)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Pardot-Business-Unit-Id", a.cfg.BusinessUnitID)
	return nil
}

// Refresh implements httpkit.Refresher: POST /services/oauth2/token with
// grant_type=refresh_token.
func (a *oauth) Refresh(ctx context.Context) error {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	a.mu.Lock()
	current := a.token
	a.mu.Unlock()
	if n, ok := ctx.Value(usedKey{}).(*atomicString); ok && current != "" && n.get() != current {
		return nil // renewed by another call since this one was sent
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {a.cfg.RefreshToken},
		"client_id": {a.cfg.ClientID}, "client_secret": {a.cfg.ClientSecret}}
	u := strings.TrimRight(a.cfg.LoginURL, "/") + "/services/oauth2/token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return adapter.Permanent(fmt.Errorf("pardot: building the token request: %w", err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.hc.Do(req)
	if err != nil {
		return adapter.Retryable(fmt.Errorf("pardot: token request: %w", err))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	_ = json.Unmarshal(b, &body)
	if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
		// The description may echo the request; only the error code is kept.
		return adapter.Auth(fmt.Errorf("pardot: token request refused: HTTP %d %s", resp.StatusCode, body.Error))
	}
	a.mu.Lock()
	a.token = body.AccessToken
	a.mu.Unlock()
	return nil
}
