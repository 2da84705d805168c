package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/store"
)

// Recompute loads every profile with its orders, runs the segment engine at
// asOf and keeps the result for incremental rescoring.
func (p *Pipeline) Recompute(ctx context.Context, asOf time.Time) (*segment.Result, error) {
	b := segment.NewBuilder(p.currency)
	err := p.store.EachProfile(ctx, func(po store.ProfileOrders) error {
		b.Add(&po.Profile, po.Orders)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loading profiles for segmentation: %w", err)
	}
	res, err := p.engine.Run(ctx, b.Dataset(), asOf)
	if err != nil {
		return nil, fmt.Errorf("computing segments: %w", err)
	}
	p.setLast(res)
	return res, nil
}
