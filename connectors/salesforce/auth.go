package salesforce

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// tokenSource holds the current session and renews it. Salesforce access
// tokens carry no expires_in: a 401 INVALID_SESSION_ID is the only sign
// of expiry, so Refresh is driven by httpkit after such an answer.
type tokenSource struct {
	cfg    *Config
	client *httpkit.Client // for the token endpoint; no Auth of its own
	now    func() time.Time

	mu          sync.Mutex
	token       string
	instanceURL string
	orgID       string
	userID      string
	issued      time.Time
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id"`
	TokenType   string `json:"token_type"`
	IssuedAt    string `json:"issued_at"`
}

type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Apply puts the bearer token on req, obtaining a session first if needed.
func (t *tokenSource) Apply(ctx context.Context, req *http.Request) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == "" {
		if err := t.fetchLocked(ctx); err != nil {
			return err
		}
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	return nil
}

// Refresh obtains a new session (a new JWT assertion for the JWT flow,
// which issues no refresh token).
func (t *tokenSource) Refresh(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.fetchLocked(ctx)
}

// session returns the instance URL and identity, logging in if needed.
func (t *tokenSource) session(ctx context.Context) (instance, org, user string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == "" {
		if err := t.fetchLocked(ctx); err != nil {
			return "", "", "", err
		}
	}
	return t.instanceURL, t.orgID, t.userID, nil
}

func (t *tokenSource) fetchLocked(ctx context.Context) error {
	form := url.Values{}
	switch t.cfg.Flow {
	case FlowRefreshToken:
		form.Set("grant_type", "refresh_token")
		form.Set("refresh_token", t.cfg.RefreshToken)
		form.Set("client_id", t.cfg.ClientID)
		if t.cfg.ClientSecret != "" {
			form.Set("client_secret", t.cfg.ClientSecret)
		}
	case FlowClientCredentials:
		form.Set("grant_type", "client_credentials")
		form.Set("client_id", t.cfg.ClientID)
		form.Set("client_secret", t.cfg.ClientSecret)
	case FlowJWTBearer:
		assertion, err := mintJWT(t.cfg, t.now())
		if err != nil {
			return err
		}
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		form.Set("assertion", assertion)
	default:
		return fmt.Errorf("unknown auth flow %q", t.cfg.Flow)
	}
	// Asking for a token again changes nothing the connector keeps: an
	// answer that broke on the way (cut short, a gateway's page) is asked
	// for again within the call, as a read's is.
	ctx = httpkit.AsRead(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.BaseURL+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("building salesforce token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := t.client.Do(ctx, req)
	if err != nil {
		var se *httpkit.StatusError
		if errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500 {
			var ob oauthErrorBody
			if json.Unmarshal(se.Body, &ob) == nil && ob.Error != "" {
				return adapter.Auth(fmt.Errorf("requesting salesforce token (%s flow): %s: %s", t.cfg.Flow, ob.Error, ob.Description))
			}
			return adapter.Auth(fmt.Errorf("requesting salesforce token (%s flow): HTTP %d", t.cfg.Flow, se.StatusCode))
		}
		return fmt.Errorf("requesting salesforce token: %w", err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		return adapter.Retryable(fmt.Errorf("decoding salesforce token response: %w", err))
	}
	if tr.AccessToken == "" || tr.InstanceURL == "" {
		return adapter.Permanent(errors.New("decoding salesforce token response: access_token or instance_url missing"))
	}
	t.token = tr.AccessToken
	t.instanceURL = strings.TrimRight(tr.InstanceURL, "/")
	if t.cfg.InstanceURL != "" {
		t.instanceURL = t.cfg.InstanceURL
	}
	// The identity URL ends in /id/<orgId>/<userId>.
	parts := strings.Split(strings.TrimRight(tr.ID, "/"), "/")
	if len(parts) >= 2 {
		t.orgID, t.userID = parts[len(parts)-2], parts[len(parts)-1]
	}
	t.issued = t.now()
	return nil
}

// mintJWT builds the RS256 assertion of the JWT bearer flow: iss is the
// consumer key, sub the username, aud the login host, exp three minutes on.
func mintJWT(cfg *Config, now time.Time) (string, error) {
	if cfg.privateKey == nil {
		return "", adapter.Permanent(errors.New("signing salesforce JWT: auth.private_key is not a usable RSA key"))
	}
	enc := base64.RawURLEncoding
	hdr := enc.EncodeToString([]byte(`{"alg":"RS256"}`))
	claims, err := json.Marshal(map[string]any{
		"iss": cfg.ClientID, "sub": cfg.Username, "aud": cfg.Audience,
		"exp": now.Add(3 * time.Minute).Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("encoding salesforce JWT claims: %w", err)
	}
	signing := hdr + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, cfg.privateKey, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("signing salesforce JWT: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}
