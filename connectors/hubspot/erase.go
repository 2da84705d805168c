package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Erase implements adapter.Eraser with HubSpot's GDPR delete
// (POST /crm/v3/objects/contacts/gdpr-delete), which removes the contact
// permanently, beyond the recycle bin, and blocks its email from being
// re-added. HubSpot answers 204; a contact it no longer has is a 404.
func (c *Connector) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	if ref.ObjectType != domain.ObjectContact {
		return "", adapter.Permanent(fmt.Errorf("erasing hubspot %s %s: only contacts hold a person: %w", ref.ObjectType, ref.ID, adapter.ErrUnsupported))
	}
	st, err := c.state()
	if err != nil {
		return "", err
	}
	body := map[string]string{"objectId": ref.ID}
	err = call(withPriority(ctx), st.api, http.MethodPost, st.url("/crm/v3/objects/contacts/gdpr-delete"), body, nil)
	switch {
	case err == nil:
		return adapter.ErasureDeleted, nil
	case isStatus(err, http.StatusNotFound):
		return "", fmt.Errorf("erasing hubspot contact %s: %w", ref.ID, errors.Join(adapter.ErrRecordGone, err))
	default:
		return "", fmt.Errorf("erasing hubspot contact %s: %w", ref.ID, err)
	}
}

var _ adapter.Eraser = (*Connector)(nil)
