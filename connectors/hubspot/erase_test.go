package hubspot

import (
	"context"
	"errors"
	"testing"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestEraseUsesGDPRDelete: Erase removes the contact for good through
// the GDPR delete endpoint (checked against HubSpot's published spec),
// and a second Erase of it reports the record gone.
func TestEraseUsesGDPRDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, hubspotfake.Options{}, nil)
	id := e.fake.Create("contacts", hubspotfake.Object{Properties: map[string]string{"email": "erase.me@example.com", "firstname": "Erin"}})
	ref := domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: id}
	out, err := e.conn.Erase(context.Background(), ref)
	if err != nil || out != adapter.ErasureDeleted {
		t.Fatalf("Erase = %q, %v; want deleted", out, err)
	}
	if _, ok := e.fake.Get("contacts", id); ok {
		t.Error("the fake still has the contact")
	}
	if n := e.fake.CallCount("POST /crm/v3/objects/contacts/gdpr-delete"); n != 1 {
		t.Errorf("gdpr-delete calls = %d (calls %v); want 1", n, e.fake.Calls())
	}
	if _, err := e.conn.Erase(context.Background(), ref); !errors.Is(err, adapter.ErrRecordGone) {
		t.Errorf("second Erase: %v; want ErrRecordGone", err)
	}
}
