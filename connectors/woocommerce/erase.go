package woocommerce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// Erase implements adapter.Eraser by deleting the customer
// (DELETE /wp-json/wc/v3/customers/{id}?force=true: customers cannot be
// trashed, so force is required). WooCommerce answers 200 with the deleted
// customer, and 404 woocommerce_rest_invalid_id for an id it does not
// have. The orders stay in the shop; WordPress's own personal-data eraser
// anonymises them, which the REST API does not offer.
func (c *Connector) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	id, err := strconv.Atoi(ref.ID)
	if ref.ObjectType != domain.ObjectContact || err != nil || id <= 0 {
		return "", adapter.Permanent(fmt.Errorf("erasing woocommerce %s %s: only a registered customer can be erased: %w", ref.ObjectType, ref.ID, adapter.ErrUnsupported))
	}
	_, a, _, err := c.state()
	if err != nil {
		return "", err
	}
	op := "erasing woocommerce customer " + ref.ID
	_, err = a.do(ctx, op, http.MethodDelete, "/customers/"+ref.ID, url.Values{"force": {"true"}}, nil, nil)
	var se *httpkit.StatusError
	switch {
	case err == nil:
		return adapter.ErasureDeleted, nil
	case errors.As(err, &se) && se.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("%s: %w", op, errors.Join(adapter.ErrRecordGone, err))
	default:
		return "", err
	}
}

var _ adapter.Eraser = (*Connector)(nil)
