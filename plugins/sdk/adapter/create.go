package adapter

import (
	"context"
	"fmt"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// CreateMode says which people write-back creates a record for on a
// platform where they have none.
type CreateMode string

// Create modes.
const (
	// CreateNever creates nothing: segments reach only the records the
	// platform already has (the default).
	CreateNever CreateMode = "never"
	// CreateMembers creates a record for each member of a segment written
	// to the platform (holdout members get none: nothing is written for
	// them).
	CreateMembers CreateMode = "members"
	// CreateAll creates a record for everyone the definition places in
	// one of its segments, holdout members included.
	CreateAll CreateMode = "all"
)

// CreateModes lists the modes for messages and schemas.
func CreateModes() []string {
	return []string{string(CreateNever), string(CreateMembers), string(CreateAll)}
}

// ParseCreateMode reads a mode; "" is CreateNever.
func ParseCreateMode(s string) (CreateMode, error) {
	switch CreateMode(s) {
	case "", CreateNever:
		return CreateNever, nil
	case CreateMembers, CreateAll:
		return CreateMode(s), nil
	}
	return CreateNever, fmt.Errorf("must be one of never, members, all, got %q", s)
}

// CreatePolicy is what a platform's configuration says about creating
// records.
type CreatePolicy struct {
	// Mode applies to segment definitions that do not set their own.
	Mode CreateMode
	// Allowed is false when the configuration forbids creating records
	// at all (a shop that does not let the connector register
	// customers); segments asking for it are then warned about.
	Allowed bool
	// Cap is the most records the connector may create on the platform
	// in total, 0 for no cap; CapReason says why it matters (HubSpot
	// bills marketing contacts).
	Cap       int
	CapReason string
}

// CreateItem is one person to create a record for.
type CreateItem struct {
	// ID is the idempotency key, echoed in CreateResult.
	ID        string `json:"id"`
	ProfileID string `json:"profile_id"`
	// Email is the normalised primary email; platforms that upsert by
	// email find the record an earlier attempt created.
	Email     string `json:"email"`
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	// Properties are target values written with the record, keyed by
	// target key, as in PushItem.
	Properties map[string]string `json:"properties,omitempty"`
}

// CreateRequest creates records for a batch of people.
type CreateRequest struct {
	Items []CreateItem `json:"items"`
	// Targets maps target keys to the platform ids EnsureTargets returned.
	Targets map[string]string `json:"targets,omitempty"`
}

// CreateResult is the outcome of one CreateItem. With PushOK, Ref is the
// record that now holds the person: created, or found (an earlier attempt
// created it, or the platform matched an existing record).
type CreateResult struct {
	ID         string             `json:"id"`
	Status     PushStatus         `json:"status"`
	Ref        domain.ExternalRef `json:"ref,omitzero"`
	New        bool               `json:"new,omitempty"`
	Reason     string             `json:"reason,omitempty"`
	RetryAfter time.Duration      `json:"retry_after,omitempty"`
}

// Creator is implemented by adapters that can create a person's record
// where a segment needs one. Create must never make a duplicate: it
// upserts on a key an earlier attempt of the same item would have used
// (the email, or an external id field the connector owns), so a retry
// after a crash finds the record the first attempt created.
type Creator interface {
	// CreatePolicy is the platform's configured creation policy.
	CreatePolicy() CreatePolicy
	// EstimateCreateCalls is the number of API requests Create makes for
	// n items, every one succeeding.
	EstimateCreateCalls(n int) int
	// Create creates (or finds) the records, one result per item.
	Create(ctx context.Context, req CreateRequest) ([]CreateResult, error)
}
