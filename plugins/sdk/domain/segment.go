package domain

import "time"

// Segment names a computed group of profiles.
type Segment struct {
	Name        string `json:"name"` // unique slug, e.g. "rfm:champions" or "vip"
	Kind        string `json:"kind"` // rfm, value, behavioral, lifecycle, predictive, cluster, rule
	Description string `json:"description,omitempty"`
}

// Membership says a profile belongs to a segment.
type Membership struct {
	ProfileID string    `json:"profile_id"`
	Segment   string    `json:"segment"`
	Since     time.Time `json:"since,omitzero"`
	// Control marks the profile as part of the segment's holdout group: it
	// is a member but receives no write-back or campaign.
	Control bool   `json:"control,omitempty"`
	Reason  string `json:"reason,omitempty"`
}
