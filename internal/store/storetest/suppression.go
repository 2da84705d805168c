package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// testSuppressionUpgrade: a suppression entry written before keyed hashes
// (the plain SHA-256 of the email) still keeps the person out; the first
// time their email is seen again the entry is rewritten under the store's
// key, and the plain hash is gone from the database.
func testSuppressionUpgrade(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t, store.Options{SuppressionKey: []byte("a-configured-suppression-secret")})
	db := s.Database().SQL
	email := "Erased.Before@Example.com"
	sum := sha256.Sum256([]byte(domain.NormalizeEmail(email)))
	legacy := hex.EncodeToString(sum[:])
	// As migration 0007 wrote it: the plain hash, scheme defaulted.
	if _, err := db.ExecContext(ctx, `INSERT INTO suppression (email_hash, erasure_id, created_at) VALUES ('`+legacy+`', 1, 0)`); err != nil {
		t.Fatal(err)
	}
	keyed, err := s.EmailHash(email)
	if err != nil || keyed == legacy || len(keyed) != 64 {
		t.Fatalf("EmailHash = %q (%v); want a keyed hash, not the plain one", keyed, err)
	}
	page := []adapter.Change{{Kind: adapter.ChangeUpsert, Ref: domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: "77"},
		Contact: &domain.Contact{Emails: []string{email}, FirstName: "Erased"}}}
	res, err := s.ApplyPage(ctx, "hubspot", "", domain.ObjectContact, page, nil, "c1")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 0 || res.Skipped != 1 {
		t.Fatalf("a contact suppressed under the plain hash was stored: %+v", res)
	}
	rows := map[string]string{}
	r, err := db.QueryContext(ctx, `SELECT email_hash, scheme FROM suppression`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		var h, scheme string
		if err := r.Scan(&h, &scheme); err != nil {
			t.Fatal(err)
		}
		rows[h] = scheme
	}
	r.Close()
	if len(rows) != 1 || rows[keyed] != "hmac" {
		t.Fatalf("suppression rows after the email was seen: %v; want only the keyed hash %s", rows, keyed)
	}
	if ok, err := s.Suppressed(ctx, email); err != nil || !ok {
		t.Fatalf("Suppressed = %v, %v after the rewrite", ok, err)
	}
	// Two stores with different secrets key the same email differently.
	other := open(t, store.Options{SuppressionKey: []byte("another-suppression-secret!")})
	if h, _ := other.EmailHash(email); h == keyed {
		t.Fatal("two secrets give the same hash")
	}
}
