package salesforce

import "github.com/segconn/connector/adapter"

var _ adapter.CallEstimator = (*Connector)(nil)

// EstimatePushCalls mirrors Push: field updates and Campaign member
// inserts in collections of 200, and for removals one CampaignMember query
// and one delete collection per 200 (campaign, record) pairs.
func (c *Connector) EstimatePushCalls(req adapter.PushRequest) int {
	updates, adds := 0, 0
	pairs := map[[2]string]bool{}
	for _, it := range req.Items {
		if len(it.Properties) > 0 {
			updates++
		}
		adds += len(it.Add)
		for _, k := range it.Remove {
			pairs[[2]string{k, it.Ref.ID}] = true
		}
	}
	chunks := func(n int) int { return (n + MaxCollection - 1) / MaxCollection }
	return chunks(updates) + chunks(adds) + 2*chunks(len(pairs))
}
