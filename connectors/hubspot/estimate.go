package hubspot

import (
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

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

var _ adapter.WritePacer = (*Connector)(nil)

// Shares of the request budget that live write-back may spend: property
// writes, then list membership calls. The last tenth is headroom for
// pulls and webhook fetches, so that a property write rarely waits for a
// token behind another call.
const (
	propertyShare   = 0.7
	membershipShare = 0.2
)

// WritePacing asks the daemon to write live property changes at most as
// often as propertyShare of the request budget allows, and to hold list
// membership changes for write_back.membership_interval (longer when
// their calls would spend more than membershipShare): every list costs
// one call however few records change, so writing them record by record
// would spend the budget many times over.
func (c *Connector) WritePacing() adapter.WritePacing {
	st, err := c.state()
	if err != nil {
		return adapter.WritePacing{}
	}
	rl := st.cfg.RateLimit
	perSecond := limiterFor(rl.Requests, rl.Interval).Limit()
	if perSecond <= 0 || st.cfg.WriteBack.MembershipInterval <= 0 {
		return adapter.WritePacing{}
	}
	return adapter.WritePacing{
		PropertyEvery:       time.Duration(float64(time.Second) / (float64(perSecond) * propertyShare)),
		MembershipEvery:     st.cfg.WriteBack.MembershipInterval,
		MembershipCallEvery: time.Duration(float64(time.Second) / (float64(perSecond) * membershipShare)),
	}
}
