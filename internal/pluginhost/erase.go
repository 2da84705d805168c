package pluginhost

import (
	"context"
	"fmt"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

var _ adapter.Eraser = (*Plugin)(nil)

// Erase implements adapter.Eraser through protocol 1.2's Erase. A plugin
// of an older protocol, or one without erasure, answers with an error
// wrapping adapter.ErrUnsupported, which the host records as "cannot
// erase" rather than retrying; an erasure is idempotent, so a call whose
// plugin crashed is made again on a fresh process.
func (p *Plugin) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	var out adapter.ErasureOutcome
	err := p.do(ctx, "erasing "+ref.Key(), func(ctx context.Context, a adapter.Adapter) (err error) {
		er, ok := a.(adapter.Eraser)
		if !ok {
			return adapter.Permanent(fmt.Errorf("erasing %s: %w", ref.Key(), adapter.ErrUnsupported))
		}
		out, err = er.Erase(ctx, ref)
		return err
	})
	return out, err
}
