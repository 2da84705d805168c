package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// Erase implements adapter.Eraser by deleting the Contact or Lead
// (DELETE /sobjects/{Contact|Lead}/{id}, answered 204). Salesforce keeps a
// deleted record in its recycle bin for 15 days before purging it; an id
// it no longer has (deleted before, or purged) answers 404
// ENTITY_IS_DELETED or NOT_FOUND, which counts as gone.
func (c *Connector) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	object, ok := sobjectOfRef(ref.ObjectType, ref.ID)
	if !ok || (object != "Contact" && object != "Lead") || !validID(ref.ID) {
		return "", adapter.Permanent(fmt.Errorf("erasing salesforce %s %s: only a Contact or Lead can be erased: %w", ref.ObjectType, ref.ID, adapter.ErrUnsupported))
	}
	err := c.sendJSON(ctx, http.MethodDelete, "/sobjects/"+object+"/"+ref.ID, nil, nil)
	var se *httpkit.StatusError
	switch {
	case err == nil:
		return adapter.ErasureDeleted, nil
	case errors.As(err, &se) && se.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("erasing salesforce %s %s: %w", object, ref.ID, errors.Join(adapter.ErrRecordGone, err))
	default:
		return "", c.mapErr(err, fmt.Sprintf("erasing salesforce %s %s", object, ref.ID))
	}
}

var _ adapter.Eraser = (*Connector)(nil)
