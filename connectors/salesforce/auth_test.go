package salesforce

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func testKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	return k, string(p)
}

func TestJWTBearerFlow(t *testing.T) {
	t.Parallel()
	key, keyPEM := testKey(t)
	f := startFake(t, salesforcefake.Options{JWTKey: &key.PublicKey})
	f.SeedContacts(5, nil)
	jwt := func(extra map[string]any) adapter.Config {
		a := map[string]any{"flow": FlowJWTBearer, "client_id": f.Options().ClientID, "username": f.Options().Username, "private_key": keyPEM}
		for k, v := range extra {
			a[k] = v
		}
		cfg := baseConfig(f)
		cfg["auth"] = a
		return cfg
	}
	c := New(nil)
	if err := c.Configure(context.Background(), jwt(nil)); err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	if err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact}, col.sink); err != nil {
		t.Fatalf("pull with a JWT session: %v", err)
	}
	if len(col.changes) != 5 {
		t.Fatalf("%d changes", len(col.changes))
	}
	// Expiry re-mints the assertion (the JWT flow has no refresh token).
	f.ExpireSessions()
	if _, err := c.Fetch(ctxT(t), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{col.changes[0].Ref.ID}}); err != nil {
		t.Fatalf("fetch after expiry: %v", err)
	}
	if n := f.CallCount("POST /services/oauth2/token"); n != 2 {
		t.Fatalf("token calls %d, want 2", n)
	}

	_, otherPEM := testKey(t)
	for name, tc := range map[string]struct {
		extra map[string]any
		want  string
	}{
		"wrong key":      {map[string]any{"private_key": otherPEM}, "invalid assertion"},
		"wrong audience": {map[string]any{"audience": "https://test.salesforce.com"}, "audience is invalid"},
		"wrong user":     {map[string]any{"username": "someone@else.example"}, "user hasn't approved this consumer"},
		"wrong issuer":   {map[string]any{"client_id": "other-app"}, "client identifier invalid"},
	} {
		c := New(nil)
		if err := c.Configure(context.Background(), jwt(tc.extra)); err != nil {
			t.Fatal(err)
		}
		_, err := c.Fetch(ctxT(t), adapter.FetchRequest{Object: domain.ObjectContact, IDs: []string{col.changes[0].Ref.ID}})
		if err == nil || adapter.KindOf(err) != adapter.KindAuth || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want auth error mentioning %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
			t.Errorf("%s: key material in error", name)
		}
	}
}

func TestClientCredentialsAndSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	f.SeedContacts(2, nil)
	cfg := baseConfig(f)
	cfg["auth"] = map[string]any{"flow": FlowClientCredentials, "client_id": f.Options().ClientID, "client_secret": f.Options().ClientSecret}
	c := New(nil)
	if err := c.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	if err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact}, col.sink); err != nil || len(col.changes) != 2 {
		t.Fatalf("client credentials pull: %v, %d changes", err, len(col.changes))
	}

	const secret = "wrong-refresh-token-SECRET-4711"
	c2, logs := newConn(t, f, map[string]any{"auth": map[string]any{"refresh_token": secret, "client_secret": "wrong-client-secret-0815"}})
	err := c2.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact}, col.sink)
	if err == nil || !errors.Is(err, adapter.ErrAuth) {
		t.Fatalf("bad credentials: %v", err)
	}
	if !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("error does not name the OAuth error: %v", err)
	}
	for _, s := range []string{secret, "wrong-client-secret-0815"} {
		if strings.Contains(err.Error(), s) || strings.Contains(logs.String(), s) {
			t.Fatalf("secret %q leaked into the error or logs:\n%v\n%s", s, err, logs.String())
		}
	}
}

func TestValidateConfigNamesEveryProblem(t *testing.T) {
	t.Parallel()
	c := New(nil)
	diags, err := c.ValidateConfig(context.Background(), adapter.Config{
		"base_url":  "login.salesforce.com",
		"auth":      map[string]any{"flow": FlowJWTBearer, "private_key": "not a key"},
		"page_size": 5000, "organization_id": "12345", "colour": "blue",
		"quota": map[string]any{"pull_share": "120%"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.Path)
	}
	joined := strings.Join(got, " ")
	for _, want := range []string{"platforms.salesforce.base_url", "platforms.salesforce.auth.client_id",
		"platforms.salesforce.auth.username", "platforms.salesforce.auth.private_key", "platforms.salesforce.page_size",
		"platforms.salesforce.organization_id", "platforms.salesforce.colour", "platforms.salesforce.quota.pull_share"} {
		if !strings.Contains(joined, want+" ") && !strings.HasSuffix(joined, want) {
			t.Errorf("no diagnostic for %s in %v", want, diags)
		}
	}
	if err := c.Configure(context.Background(), adapter.Config{}); err == nil {
		t.Fatal("an empty config was accepted")
	}
}

func TestAudienceFollowsSandboxLogin(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]string{
		"https://login.salesforce.com":                "https://login.salesforce.com",
		"https://test.salesforce.com":                 "https://test.salesforce.com",
		"https://acme--uat.sandbox.my.salesforce.com": "https://test.salesforce.com",
		"https://acme.my.salesforce.com":              "https://login.salesforce.com",
	} {
		cfg, _ := ParseConfig(adapter.Config{"base_url": base, "auth": map[string]any{"client_id": "x", "refresh_token": "y"}})
		if cfg.Audience != want {
			t.Errorf("base_url %s: audience %s, want %s", base, cfg.Audience, want)
		}
	}
}
