package pardot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Erase implements sdk.Eraser (protocol 1.2) with the v5 prospect delete
// (DELETE /api/v5/objects/prospects/{id}, answered 204; the user needs
// Prospect > Prospects > Delete). Account Engagement moves the prospect
// to its recycle bin, where it is no longer tracked or mailed; the API
// offers no permanent delete, which an administrator does in the recycle
// bin (Salesforce Help, "Permanently Delete Prospects"). A prospect it no
// longer has (404, code 3) is adapter.ErrRecordGone.
func (p *Plugin) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	id, err := strconv.Atoi(ref.ID)
	if ref.ObjectType != domain.ObjectContact || err != nil || id <= 0 {
		return "", adapter.Permanent(fmt.Errorf("pardot: erasing %s %q: only prospects, by their numeric id, hold a person: %w", ref.ObjectType, ref.ID, adapter.ErrUnsupported))
	}
	err = p.call(ctx, http.MethodDelete, "/api/v5/objects/prospects/"+strconv.Itoa(id), nil, nil)
	switch {
	case err == nil:
		return adapter.ErasureDeleted, nil
	case statusOf(err) == http.StatusNotFound:
		return "", fmt.Errorf("pardot: erasing prospect %d: %w", id, errors.Join(adapter.ErrRecordGone, err))
	default:
		return "", fmt.Errorf("pardot: erasing prospect %d: %w", id, err)
	}
}
