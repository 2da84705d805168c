package hubspot

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// cutSearches cuts the body of the first n search answers in half and
// ends it with io.ErrUnexpectedEOF, as a connection closed mid-body does.
type cutSearches struct {
	base http.RoundTripper
	left atomic.Int32
}

func (c *cutSearches) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/search") || c.left.Add(-1) < 0 {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:len(body)/2]), errReader{io.ErrUnexpectedEOF}))
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// A search page (a read sent as POST) whose body breaks is retried like a
// 5xx: the incremental pull finishes with every change.
func TestSearchPagesRetriedOnBrokenBodies(t *testing.T) {
	clk := &testenv.Clock{} // one clock for the fake and the connector, stepped between phases
	e := newEnv(t, hubspotfake.Options{Now: clk.Now}, adapter.Config{"archived_sweep": "0s"})
	ids := seedContacts(e.fake, 120, func(int) time.Time { return clk.Now().Add(-time.Hour) })
	clk.Advance(3 * time.Millisecond)
	_, cur := e.pullAll(domain.ObjectContact, "", false)
	clk.Advance(3 * time.Millisecond)
	for _, id := range ids[:30] {
		e.fake.Update("contacts", id, map[string]string{"firstname": "Changed"})
	}
	clk.Advance(3 * time.Millisecond)
	cut := &cutSearches{base: e.val.base}
	cut.left.Store(2)
	e.val.base = cut
	pages, _ := e.pullAll(domain.ObjectContact, cur, false)
	if n := len(changesOf(pages)); n != 30 {
		t.Fatalf("incremental pull after broken search bodies delivered %d changes, want 30", n)
	}
	if cut.left.Load() >= 0 {
		t.Fatal("no search answer was cut")
	}
}
