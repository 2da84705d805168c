package salesforce

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

type countingTransport struct {
	token, data atomic.Int64
	base        http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch {
	case r.URL.Path == "/services/oauth2/token":
		c.token.Add(1)
	case strings.HasPrefix(r.URL.Path, "/services/data/"):
		c.data.Add(1)
	}
	return c.base.RoundTrip(r)
}

// TestOptionsReachTheClient: WithTransport carries every request, and
// WithClock is the clock the JWT assertion is minted with (the fake
// refuses an assertion that expired by its own clock).
func TestOptionsReachTheClient(t *testing.T) {
	key, keyPEM := testKey(t)
	f := startFake(t, salesforcefake.Options{JWTKey: &key.PublicKey})
	f.SeedContacts(3, nil)
	cfg := baseConfig(f)
	cfg["auth"] = map[string]any{"flow": FlowJWTBearer, "client_id": f.Options().ClientID, "username": f.Options().Username, "private_key": keyPEM}

	tr := &countingTransport{base: http.DefaultTransport}
	c := New(nil, WithTransport(tr))
	if err := c.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	if err := c.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact}, col.sink); err != nil {
		t.Fatal(err)
	}
	if tr.token.Load() != 1 || tr.data.Load() == 0 {
		t.Fatalf("the transport saw %d token and %d data requests, want 1 and some", tr.token.Load(), tr.data.Load())
	}

	late := New(nil, WithClock(func() time.Time { return time.Now().Add(-time.Hour) }))
	if err := late.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	err := late.Pull(ctxT(t), adapter.PullRequest{Object: domain.ObjectContact}, (&collector{}).sink)
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("a JWT minted an hour ago was accepted: %v", err)
	}
}
