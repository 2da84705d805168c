package mailchimp

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Erase implements sdk.Eraser (protocol 1.2) with Mailchimp's permanent
// delete (POST /lists/{list_id}/members/{subscriber_hash}/actions/
// delete-permanent, answered 204), which removes the member's personal
// data and keeps the address from being imported again. A member the
// audience no longer has (404) is gone.
func (p *Plugin) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	if ref.ObjectType != domain.ObjectContact || ref.ID == "" {
		return "", adapter.Permanent(fmt.Errorf("mailchimp: erasing %s %q: only audience members hold a person: %w", ref.ObjectType, ref.ID, adapter.ErrUnsupported))
	}
	path := "/lists/" + url.PathEscape(p.cfg.ListID) + "/members/" + url.PathEscape(ref.ID) + "/actions/delete-permanent"
	err := p.call(ctx, "POST", path, nil, nil)
	switch {
	case err == nil:
		return adapter.ErasureDeleted, nil
	case errors.Is(err, errNotFound):
		return "", fmt.Errorf("mailchimp: erasing member %s: %w", ref.ID, errors.Join(adapter.ErrRecordGone, err))
	default:
		return "", fmt.Errorf("mailchimp: erasing member %s: %w", ref.ID, err)
	}
}
