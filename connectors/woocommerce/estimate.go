package woocommerce

import (
	"strconv"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

var (
	_ adapter.CallEstimator = (*Connector)(nil)
	_ adapter.WritePacer    = (*Connector)(nil)
)

// WritePacing implements adapter.WritePacer: one customers/batch call per
// request the rate limit allows. The daemon then claims each round just
// before it can be sent, so a round carries every change that arrived
// while the previous one held the budget, instead of waiting for the
// budget with the changes it claimed earlier.
func (c *Connector) WritePacing() adapter.WritePacing {
	cfg, _, _, err := c.state()
	if err != nil || cfg.RateLimit.RequestsPerSecond <= 0 {
		return adapter.WritePacing{}
	}
	return adapter.WritePacing{PropertyEvery: time.Duration(float64(time.Second) / cfg.RateLimit.RequestsPerSecond)}
}

// EstimatePushCalls mirrors Push: one meta update per distinct customer
// (guests and non-customers take none), sent through customers/batch in
// batches of the current batch size.
func (c *Connector) EstimatePushCalls(req adapter.PushRequest) int {
	customers := map[int]bool{}
	for _, it := range req.Items {
		id, err := strconv.Atoi(it.Ref.ID)
		if err != nil || id <= 0 || it.Ref.ObjectType == "guest" {
			continue
		}
		if len(it.Properties)+len(it.Add)+len(it.Remove) > 0 {
			customers[id] = true
		}
	}
	size := max(int(c.batchSize.Load()), 1)
	return (len(customers) + size - 1) / size
}
