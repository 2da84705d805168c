package salesforce

import (
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

var (
	_ adapter.CallEstimator = (*Connector)(nil)
	_ adapter.WritePacer    = (*Connector)(nil)
)

// WritePacing implements adapter.WritePacer. A push of both kinds takes
// four sequential calls (field updates, member inserts, a member query,
// member deletes), so a round written whole holds the next round's field
// updates back by all four. With write_back.campaign_interval set, the
// daemon sends field updates alone, one call per round at the request
// rate, and the Campaign membership changes of all records every
// interval. Field-update rounds go at most ten a second, whatever the
// request rate: each costs the daemon's store a claim and a settle
// transaction, which every platform's live write-back shares.
func (c *Connector) WritePacing() adapter.WritePacing {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	if cfg == nil || cfg.CampaignInterval <= 0 || cfg.RequestsPerSecond <= 0 {
		return adapter.WritePacing{}
	}
	every := time.Duration(float64(time.Second) / cfg.RequestsPerSecond)
	return adapter.WritePacing{PropertyEvery: max(every, 100*time.Millisecond), MembershipEvery: cfg.CampaignInterval, MembershipCallEvery: every}
}

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
