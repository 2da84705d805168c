package marketo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Erase implements sdk.Eraser (protocol 1.2) with Delete Leads (POST
// /rest/v1/leads/delete.json, {input: [{id}]}, operation
// deleteLeadsUsingPOST; the API user's role needs Read-Write Lead).
// Marketo deletes the lead with its activity history and list
// memberships; it keeps no recycle bin. A lead it no longer has is
// skipped with 1004 (Lead not found): adapter.ErrRecordGone.
func (p *Plugin) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	id, err := strconv.Atoi(ref.ID)
	if ref.ObjectType != domain.ObjectContact || err != nil || id <= 0 {
		return "", adapter.Permanent(fmt.Errorf("marketo: erasing %s %q: only leads, by their numeric id, hold a person: %w", ref.ObjectType, ref.ID, adapter.ErrUnsupported))
	}
	body := map[string]any{"input": []map[string]int{{"id": id}}}
	env, err := p.call(ctx, request{op: "delete leads", method: http.MethodPost, path: "/rest/v1/leads/delete.json", body: body})
	if err != nil {
		return "", fmt.Errorf("marketo: erasing lead %d: %w", id, err)
	}
	var res []recordResult
	if err := decode(env, "delete leads", &res); err != nil {
		return "", err
	}
	if len(res) != 1 {
		return "", adapter.Retryable(fmt.Errorf("marketo: erasing lead %d: %d results for one lead", id, len(res)))
	}
	switch r := res[0]; {
	case r.Status == "deleted":
		return adapter.ErasureDeleted, nil
	case hasReason(r, "1004"):
		return "", fmt.Errorf("marketo: erasing lead %d: %w", id, errors.Join(adapter.ErrRecordGone, errors.New(reasons(res))))
	default:
		return "", adapter.Permanent(fmt.Errorf("marketo: erasing lead %d: %s %s", id, r.Status, reasons(res)))
	}
}
