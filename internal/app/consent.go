package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// explainConsent adds to each definition's reasons what a marketing
// opt-out changes for the person: the lists and campaigns they are kept
// out of and the segment events not sent (see pipeline.OptedOut).
func explainConsent(p *domain.Profile, defs []segment.Definition, ex *segment.Explanation) {
	if !pipeline.OptedOut(p) {
		return
	}
	why := fmt.Sprintf("opted out of marketing email (consent %s", p.Consent.Email)
	if src := p.Sources[identity.FieldConsentEmail]; src != "" {
		why += " from " + src
	}
	why += ")"
	byName := map[string]segment.Definition{}
	for _, d := range defs {
		byName[d.Name] = d
	}
	for i := range ex.Definitions {
		dr := &ex.Definitions[i]
		d, ok := byName[dr.Definition]
		if !ok {
			continue
		}
		var kept []string
		for platform, t := range d.Writeback {
			if t.List && !t.IncludeOptedOut {
				kept = append(kept, platform)
			}
		}
		slices.Sort(kept)
		if len(kept) > 0 {
			dr.Reasons = append(dr.Reasons, fmt.Sprintf("%s: written to no list or campaign on %s", why, strings.Join(kept, ", ")))
		}
		if !d.OutboundIncludeOptedOut {
			dr.Reasons = append(dr.Reasons, why+": no segment.entered or segment.left events are sent")
		}
	}
}
