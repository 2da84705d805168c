package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/testenv"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCommand runs `connector sandbox -o json` as the root command would,
// lists the HubSpot fake's contacts over HTTP with the printed token, and
// checks webhooks reach the target.
func TestCommand(t *testing.T) {
	var hooks atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/webhooks/hubspot") {
			hooks.Add(1)
		}
	}))
	defer target.Close()

	root := &cobra.Command{Use: "connector", SilenceUsage: true}
	root.PersistentFlags().StringP("output", "o", "table", "")
	root.AddCommand(NewCommand(nil))
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs([]string{"sandbox", "--seed", "5", "--customers", "60", "-o", "json",
		"--webhook-target", target.URL + "/webhooks", "--webhook-rate", "200", "--webhook-count", "9"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var doc struct {
		Summary struct {
			Platforms map[string]map[string]int `json:"platforms"`
		} `json:"summary"`
		Endpoints []Endpoint `json:"endpoints"`
	}
	testenv.Await(t, 30*time.Second, "the sandbox's JSON printed", func() error {
		if err := json.Unmarshal([]byte(out.String()), &doc); err != nil {
			return fmt.Errorf("%v in %q", err, out.String())
		}
		return nil
	})
	var hs Endpoint
	for _, e := range doc.Endpoints {
		if e.Platform == HubSpot {
			hs = e
		}
	}
	req, _ := http.NewRequest(http.MethodGet, hs.BaseURL+"/crm/v3/objects/contacts?limit=100", nil)
	req.Header.Set("Authorization", "Bearer "+hs.Credentials["token"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Results []json.RawMessage `json:"results"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("listing contacts: %d %v", resp.StatusCode, err)
	}
	if want := doc.Summary.Platforms[HubSpot]["contacts"]; len(page.Results) != want || want == 0 {
		t.Fatalf("HubSpot fake lists %d contacts, summary says %d", len(page.Results), want)
	}
	testenv.Await(t, 30*time.Second, "three HubSpot webhooks at the target", func() error {
		if n := hooks.Load(); n < 3 {
			return fmt.Errorf("%d so far", n)
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCommandRejectsBadFlags(t *testing.T) {
	cmd := NewCommand(nil)
	cmd.SetArgs([]string{"--customers", "0"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "--customers must be positive") {
		t.Fatalf("err = %v", err)
	}
}
