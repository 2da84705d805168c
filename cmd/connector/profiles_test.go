package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestProfilesShowExplainsLinks stores one person arriving from three
// platforms under different ids and email casing, then asks the CLI who
// they are.
func TestProfilesShowExplainsLinks(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "c.db")
	st, err := sqlite.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, c := range []domain.Contact{
		{Ref: domain.ExternalRef{Platform: "hubspot", Account: "1", ObjectType: domain.ObjectContact, ID: "501"}, Emails: []string{"Ann.Lee@Example.com"}, FirstName: "Ann", UpdatedAt: t0},
		{Ref: domain.ExternalRef{Platform: "salesforce", Account: "00D", ObjectType: domain.ObjectContact, ID: "003000000000001AAA"}, Emails: []string{"ann.lee@example.com"}, LastName: "Lee", UpdatedAt: t0.Add(time.Hour)},
		{Ref: domain.ExternalRef{Platform: "woocommerce", Account: "shop", ObjectType: domain.ObjectContact, ID: "42"}, Emails: []string{"ANN.LEE@EXAMPLE.COM"}, FirstName: "Annie", UpdatedAt: t0.Add(2 * time.Hour)},
	} {
		c := c
		_, err := st.ApplyPage(ctx, c.Ref.Platform, c.Ref.Account, domain.ObjectContact,
			[]adapter.Change{{Kind: adapter.ChangeUpsert, Ref: c.Ref, Contact: &c}}, nil, "c"+string(rune('0'+i)))
		if err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	cfg := writeConfig(t, "store: {driver: sqlite, path: "+dbPath+"}\n")
	code, out, errOut := runCLI(t, nil, "profiles", "show", "ann.lee@EXAMPLE.com", "-c", cfg)
	if code != exitOK {
		t.Fatalf("profiles show: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ann.lee@example.com", "Links (3)", "hubspot", "salesforce", "woocommerce", "501", "003000000000001AAA", "42", "Annie Lee"} {
		if !strings.Contains(out, want) {
			t.Errorf("profiles show lacks %q:\n%s", want, out)
		}
	}
	// Each field's value beside the record it came from.
	for _, want := range [][]string{
		{"first_name", "Annie", "woocommerce/shop/contact/42"},
		{"last_name", "Lee", "salesforce/00D/contact/003000000000001AAA"},
	} {
		found := false
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == want[0] && f[1] == want[1] && f[2] == want[2] {
				found = true
			}
		}
		if !found {
			t.Errorf("profiles show lacks the line %q:\n%s", strings.Join(want, "  "), out)
		}
	}
	code, out, _ = runCLI(t, nil, "profiles", "show", "ann.lee@example.com", "-c", cfg, "-o", "json")
	var ex store.Explanation
	if code != exitOK || json.Unmarshal([]byte(out), &ex) != nil {
		t.Fatalf("profiles show -o json: exit %d, %s", code, out)
	}
	if len(ex.Links) != 3 || ex.Sources["first_name"] == "" {
		t.Errorf("explanation: %d links, sources %v; want 3 links and the source of first_name", len(ex.Links), ex.Sources)
	}
	code, out, _ = runCLI(t, nil, "profiles", "list", "-c", cfg)
	if code != exitOK || strings.Count(out, "ann.lee@example.com") != 1 {
		t.Errorf("profiles list should show one profile:\n%s", out)
	}
	if code, _, errOut := runCLI(t, nil, "profiles", "show", "nobody@example.com", "-c", cfg); code != exitError || !strings.Contains(errOut, "no profile has the email") {
		t.Errorf("unknown email: exit %d, %s", code, errOut)
	}
}
