package pipeline

import "github.com/segconn/connector/plugins/sdk/domain"

// Consent-aware write-back.
//
// A person who opted out of marketing email (domain.Consent.Email denied
// or revoked on the profile, decided by identity survivorship: the most
// restrictive answer of their records wins) is written to no list and no
// campaign: lists and campaigns are what marketing sends to. Property and
// tag values are written as for anyone: they describe the person in the
// CRM, send nothing by themselves, and keep a segment report in the CRM
// complete. A segment's write-back to one platform can include opted-out
// people in its list with `include_opted_out: true`.
//
// The plan counts, per platform and segment, the members left out of a
// list for their opt-out (PlatformPlan.OptedOut); a person already in a
// list who opts out is removed from it like any leaver.

// OptedOut reports whether a profile's email consent forbids marketing.
func OptedOut(p *domain.Profile) bool {
	switch p.Consent.Email {
	case domain.ConsentDenied, domain.ConsentRevoked:
		return true
	}
	return false
}

// withoutOptedOut takes the opted-out person out of every list that
// respects consent, and counts each segment they were withheld from.
func (t *targets) withoutOptedOut(want state, withheld map[string]int) state {
	for key, in := range want.Lists {
		if !in || t.keepOptedOut[key] {
			continue
		}
		want.Lists[key] = false
		withheld[t.segmentOf[key]]++
	}
	return want
}
