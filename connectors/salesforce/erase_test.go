package salesforce

import (
	"errors"
	"testing"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestEraseDeletesContactAndLead: Erase deletes a Contact and a Lead
// through the sObject DELETE; a record deleted before reports gone, and
// a non-person object is refused as unsupported.
func TestEraseDeletesContactAndLead(t *testing.T) {
	f := startFake(t, salesforcefake.Options{})
	c, _ := newConn(t, f, nil)
	ctx := ctxT(t)
	contact := f.Insert("Contact", map[string]any{"LastName": "Quill", "Email": "q@example.com"})
	lead := f.Insert("Lead", map[string]any{"LastName": "Quill", "Company": "Q Ltd", "Email": "q@example.com"})
	for _, r := range []domain.ExternalRef{
		{Platform: "salesforce", ObjectType: refContact, ID: contact},
		{Platform: "salesforce", ObjectType: refLead, ID: lead},
	} {
		out, err := c.Erase(ctx, r)
		if err != nil || out != adapter.ErasureDeleted {
			t.Fatalf("Erase %s = %q, %v; want deleted", r.ID, out, err)
		}
		obj := "Contact"
		if r.ObjectType == refLead {
			obj = "Lead"
		}
		if rec := f.Get(obj, r.ID); rec == nil || rec["IsDeleted"] != true {
			t.Errorf("%s %s after Erase: %v; want deleted", obj, r.ID, rec)
		}
		if _, err := c.Erase(ctx, r); !errors.Is(err, adapter.ErrRecordGone) {
			t.Errorf("second Erase of %s: %v; want ErrRecordGone", r.ID, err)
		}
	}
	if _, err := c.Erase(ctx, domain.ExternalRef{Platform: "salesforce", ObjectType: refAccount, ID: "001000000000001AAA"}); !errors.Is(err, adapter.ErrUnsupported) {
		t.Errorf("Erase of an Account: %v; want ErrUnsupported", err)
	}
}
