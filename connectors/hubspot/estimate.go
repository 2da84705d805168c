package hubspot

import "github.com/segconn/connector/adapter"

var _ adapter.CallEstimator = (*Connector)(nil)

// EstimatePushCalls mirrors Push: one batch/update call per 100 records
// with properties, then per list one add-and-remove call per
// write_back.list_batch membership changes.
func (c *Connector) EstimatePushCalls(req adapter.PushRequest) int {
	listBatch := 100
	if st, err := c.state(); err == nil && st.cfg.WriteBack.ListBatch > 0 {
		listBatch = st.cfg.WriteBack.ListBatch
	}
	withProps := 0
	perList := map[string]int{}
	for _, it := range req.Items {
		if len(it.Properties) > 0 {
			withProps++
		}
		for _, k := range it.Add {
			perList[k]++
		}
		for _, k := range it.Remove {
			perList[k]++
		}
	}
	calls := (withProps + batchMax - 1) / batchMax
	for _, n := range perList {
		calls += (n + listBatch - 1) / listBatch
	}
	return calls
}
