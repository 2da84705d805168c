package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/testenv"
)

// TestPardotHoldsThePeople: with Options.Pardot the sandbox serves an
// Account Engagement fake holding every generated person as one prospect
// (the same people as the other platforms), opted out where they declined
// the newsletter, some with visitor activity.
func TestPardotHoldsThePeople(t *testing.T) {
	sb, err := Start(context.Background(), Options{Seed: 3, Customers: 80, Pardot: true,
		AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	if sb.PardotFake == nil {
		t.Fatal("no Pardot fake")
	}
	if _, ok := sb.PluginEndpoint(Pardot); !ok {
		t.Fatal("no Pardot endpoint")
	}
	optedOut, capital := 0, 0
	for _, per := range sb.Data.People {
		ps := sb.PardotFake.ByEmail(per.Email)
		if len(ps) != 1 {
			t.Fatalf("%s: %d prospects, want 1", per.Email, len(ps))
		}
		if want := per.Attributes["newsletter"] == "false"; ps[0].OptedOut != want {
			t.Errorf("%s: optedOut %v, want %v", per.Email, ps[0].OptedOut, want)
		}
		if ps[0].OptedOut {
			optedOut++
		}
		if ps[0].Email != per.Email {
			capital++
		}
	}
	if optedOut == 0 || capital == 0 {
		t.Errorf("%d opted out, %d typed with a capital; want some of each", optedOut, capital)
	}
	other, ok := sb.PluginEndpoint(Mailchimp)
	if ok {
		t.Errorf("a Mailchimp fake was started unasked: %v", other)
	}
}

// TestPardotCommand: `connector sandbox --pardot` prints the Pardot
// plugin's config section, and with it a client gets a token and reads
// every person as a prospect and their visitor activities.
func TestPardotCommand(t *testing.T) {
	root := &cobra.Command{Use: "connector", SilenceUsage: true}
	root.PersistentFlags().StringP("output", "o", "table", "")
	root.AddCommand(NewCommand(nil))
	out := &syncBuffer{}
	root.SetOut(out)
	root.SetErr(out)
	root.SetArgs([]string{"sandbox", "--seed", "5", "--customers", "60", "--pardot"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	testenv.Await(t, 30*time.Second, "the sandbox's text printed", func() error {
		if !strings.Contains(out.String(), "Serving until Ctrl-C") {
			return fmt.Errorf("so far %q", out.String())
		}
		return nil
	})
	cfg := map[string]string{}
	in := false
	for _, line := range strings.Split(out.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "pardot "):
			in = true
		case in && strings.HasPrefix(line, "  "):
			k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
			cfg[k] = strings.TrimSpace(v)
		default:
			in = false
		}
	}
	for _, k := range []string{"client_id", "client_secret", "refresh_token", "business_unit_id", "login_url", "base_url"} {
		if cfg[k] == "" {
			t.Fatalf("no %s in the printed pardot section %v:\n%s", k, cfg, out.String())
		}
	}
	resp, err := http.PostForm(cfg["login_url"]+"/services/oauth2/token", url.Values{"grant_type": {"refresh_token"},
		"client_id": {cfg["client_id"]}, "client_secret": {cfg["client_secret"]}, "refresh_token": {cfg["refresh_token"]}})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("token with the printed credentials: %d %v", resp.StatusCode, err)
	}
	count := func(path string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, cfg["base_url"]+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Pardot-Business-Unit-Id", cfg["business_unit_id"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct {
			Values []json.RawMessage `json:"values"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return len(page.Values)
	}
	if n := count("/api/v5/objects/prospects?fields=id,email&limit=1000"); n != 60 {
		t.Errorf("%d prospects, want the 60 people", n)
	}
	if n := count("/api/v5/objects/visitor-activities?fields=id,prospectId,type&limit=1000"); n == 0 {
		t.Error("no visitor activities")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
