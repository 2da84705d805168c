package woocommerce

import (
	"strconv"

	"github.com/segconn/connector/adapter"
)

var _ adapter.CallEstimator = (*Connector)(nil)

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
