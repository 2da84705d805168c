package store

import (
	"context"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Privacy keeps erasures: the audit of each (who asked, when, what every
// platform answered), the platform deletions still to do, and the
// suppression list of erased people.
//
// An erasure happens in the one transaction that erases the profile: a
// privacy deletion from a platform (adapter.Change.Privacy) or a request
// (Erase). Besides the profile, its links and orders (see
// internal/identity), it removes the person's data from every other table
// that can hold it: webhook payloads in the inbox, outbound deliveries,
// identity event details, quarantined records; it closes pending
// write-back of their records, adds the keyed hash of each of their
// normalised emails (see EmailHash) to the suppression list, and records one task per
// platform record to delete. A suppressed email is never imported again:
// pages applied later skip contacts and guest orders carrying it.
type Privacy interface {
	// Erase erases a profile on request and returns the audit entry.
	// Erasing a profile already erased records a new entry with no task.
	Erase(ctx context.Context, profileID string, req ErasureRequest) (Erasure, error)

	// Suppressed reports whether an email is on the suppression list.
	Suppressed(ctx context.Context, email string) (bool, error)

	// EmailHash is the suppression list's key of an email: an
	// HMAC-SHA-256 of the normalised email under the store's secret
	// (Options.SuppressionKey), so the list cannot be matched against
	// guessed emails without it. Audit entries name their subject by it.
	EmailHash(email string) (string, error)

	// Erasures returns audit entries, newest first; open only lists those
	// with a platform deletion still pending.
	Erasures(ctx context.Context, open bool, limit int) ([]Erasure, error)

	// Erasure returns one audit entry by id.
	Erasure(ctx context.Context, id int64) (Erasure, error)

	// ErasureTasksDue returns up to limit pending platform deletions due
	// at now, oldest first.
	ErasureTasksDue(ctx context.Context, now time.Time, limit int) ([]ErasureTask, error)

	// SettleErasureTask records a platform's answer to one deletion: a
	// final status (done, gone, unsupported, skipped), or pending again at
	// retryAt. The erasure is complete when no task is pending.
	SettleErasureTask(ctx context.Context, erasureID int64, refKey string, status ErasureStatus, answer string, retryAt time.Time) error
}

// ErasureRequest says who asked for an erasure.
type ErasureRequest struct {
	RequestedBy string // an operator, or "platform:<name>"
	Source      string // "request", or the platform whose privacy deletion started it
}

// ErasureStatus is the state of one platform deletion.
type ErasureStatus string

// Erasure task statuses.
const (
	ErasurePending     ErasureStatus = "pending"     // not yet confirmed; retried
	ErasureDone        ErasureStatus = "done"        // the platform deleted or anonymised the record
	ErasureGone        ErasureStatus = "gone"        // the platform no longer had it
	ErasureUnsupported ErasureStatus = "unsupported" // the adapter cannot delete records
	ErasureSkipped     ErasureStatus = "skipped"     // fan-out to other platforms is off
)

// Erasure is one audit entry. It holds no personal data: the subject is
// the hash of the normalised primary email (or of the profile id when
// there was none), under the store's key (EmailHash).
type Erasure struct {
	ID          int64         `json:"id"`
	ProfileID   string        `json:"profile_id"`
	SubjectHash string        `json:"subject_hash"`
	Source      string        `json:"source"`
	RequestedBy string        `json:"requested_by"`
	RequestedAt time.Time     `json:"requested_at"`
	CompletedAt time.Time     `json:"completed_at,omitzero"`
	Tasks       []ErasureTask `json:"tasks"`
}

// ErasureTask is the deletion of one platform record.
type ErasureTask struct {
	ErasureID int64              `json:"erasure_id"`
	Ref       domain.ExternalRef `json:"ref"`
	Status    ErasureStatus      `json:"status"`
	Attempts  int                `json:"attempts"`
	Answer    string             `json:"answer,omitempty"`
	NotBefore time.Time          `json:"not_before,omitzero"`
	UpdatedAt time.Time          `json:"updated_at"`
}
