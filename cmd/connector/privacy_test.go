package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestPrivacyEraseAndStatus erases a person known on two platforms that
// are not configured here: the store forgets them at once, and `privacy
// status` lists both platform deletions as pending, with no personal data.
func TestPrivacyEraseAndStatus(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "c.db")
	st, err := sqlite.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for _, c := range []domain.Contact{
		{Ref: domain.ExternalRef{Platform: "hubspot", Account: "1", ObjectType: domain.ObjectContact, ID: "501"}, Emails: []string{"Ines.Oyelaran@Example.com"}, FirstName: "Ines", UpdatedAt: t0},
		{Ref: domain.ExternalRef{Platform: "woocommerce", Account: "shop", ObjectType: domain.ObjectContact, ID: "42"}, Emails: []string{"ines.oyelaran@example.com"}, LastName: "Oyelaran", UpdatedAt: t0},
	} {
		c := c
		if _, err := st.ApplyPage(ctx, c.Ref.Platform, c.Ref.Account, domain.ObjectContact,
			[]adapter.Change{{Kind: adapter.ChangeUpsert, Ref: c.Ref, Contact: &c}}, nil, "c"); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	cfg := writeConfig(t, "store: {driver: sqlite, path: "+dbPath+"}\n")

	code, _, errOut := runCLI(t, nil, "privacy", "erase", "INES.OYELARAN@example.com", "--by", "ticket-77", "-c", cfg)
	if code != exitOK {
		t.Fatalf("privacy erase: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, nil, "privacy", "status", "-c", cfg)
	if code != exitOK {
		t.Fatalf("privacy status: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ticket-77", "hubspot", "501", "woocommerce", "42", "pending", "not configured"} {
		if !strings.Contains(out, want) {
			t.Errorf("privacy status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(strings.ToLower(out), "oyelaran") {
		t.Errorf("privacy status shows the erased person:\n%s", out)
	}
	code, _, errOut = runCLI(t, nil, "privacy", "erase", "ines.oyelaran@example.com", "--by", "ticket-78", "-c", cfg)
	if code == exitOK || !strings.Contains(errOut, "suppressed") {
		t.Errorf("erasing again: exit %d: %s; want a failure saying the email is suppressed", code, errOut)
	}
}
