package woocommerce

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestEraseDeletesCustomer: Erase deletes the customer with force=true
// (the shop cannot trash customers); a second Erase reports it gone, and
// a guest (no customer id) is refused as unsupported.
func TestEraseDeletesCustomer(t *testing.T) {
	f, c := start(t, woocommercefake.Options{}, nil)
	ids := f.AddCustomers(woocommercefake.Customer{Email: "wren@example.com", FirstName: "Wren"})
	ref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectContact, ID: strconv.Itoa(ids[0])}
	ctx := context.Background()
	out, err := c.Erase(ctx, ref)
	if err != nil || out != adapter.ErasureDeleted {
		t.Fatalf("Erase = %q, %v; want deleted", out, err)
	}
	if _, ok := f.Customer(ids[0]); ok {
		t.Error("the fake still has the customer")
	}
	if _, err := c.Erase(ctx, ref); !errors.Is(err, adapter.ErrRecordGone) {
		t.Errorf("second Erase: %v; want ErrRecordGone", err)
	}
	if _, err := c.Erase(ctx, domain.ExternalRef{Platform: "woocommerce", ObjectType: "guest", ID: "abc"}); !errors.Is(err, adapter.ErrUnsupported) {
		t.Errorf("Erase of a guest: %v; want ErrUnsupported", err)
	}
}
