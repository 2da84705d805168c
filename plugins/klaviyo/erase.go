package klaviyo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Erase implements sdk.Eraser with Klaviyo's Data Privacy API: a
// profile that still exists (GET /api/profiles/{id}) is given to POST
// /api/data-privacy-deletion-jobs by id, which deletes it (and its
// events) asynchronously; one that no longer exists is adapter.ErrRecordGone.
func (p *Plugin) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	if ref.ObjectType != domain.ObjectContact || ref.ID == "" {
		return "", adapter.Permanent(fmt.Errorf("klaviyo: erasing %s %q: only profiles hold a person: %w", ref.ObjectType, ref.ID, adapter.ErrUnsupported))
	}
	err := p.call(ctx, "get_profile", http.MethodGet, "/api/profiles/"+url.PathEscape(ref.ID), nil, nil)
	if status, _ := errorsOf(err); status == http.StatusNotFound {
		return "", fmt.Errorf("klaviyo: erasing profile %s: %w", ref.ID, errors.Join(adapter.ErrRecordGone, err))
	}
	if err != nil {
		return "", fmt.Errorf("klaviyo: erasing profile %s: %w", ref.ID, err)
	}
	body := map[string]any{"data": map[string]any{"type": "data-privacy-deletion-job", "attributes": map[string]any{
		"profile": map[string]any{"data": map[string]any{"type": "profile", "id": ref.ID, "attributes": map[string]any{}}}}}}
	if err := p.call(ctx, "request_profile_deletion", http.MethodPost, "/api/data-privacy-deletion-jobs", body, nil); err != nil {
		return "", fmt.Errorf("klaviyo: erasing profile %s: %w", ref.ID, err)
	}
	return adapter.ErasureDeleted, nil
}
