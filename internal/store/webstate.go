package store

import (
	"context"
	"time"
)

// Runs is the history of what the connector did: syncs, plans, applies
// and full cycles, each with when it started and ended, what it counted
// and why it failed.
type Runs interface {
	// RunStart records a run that has begun and returns its id.
	RunStart(ctx context.Context, r Run) (int64, error)
	// RunFinish records a run's end, its counts and its error ("" when
	// it succeeded).
	RunFinish(ctx context.Context, id int64, at time.Time, counts map[string]int, errMsg string) error
	// Runs lists runs newest first, matching f.
	Runs(ctx context.Context, f RunFilter) ([]Run, error)
}

// Run kinds.
const (
	RunSync      = "sync"      // a pull of one or more platforms
	RunPlan      = "plan"      // a plan made (nothing written)
	RunApply     = "apply"     // a plan applied and written back
	RunCycle     = "cycle"     // pull, segment and write back, in one go
	RunResegment = "resegment" // every segment recomputed and recorded (the daemon's schedule)
)

// Run is one recorded run.
type Run struct {
	ID         int64          `json:"id"`
	Kind       string         `json:"kind"`
	Platforms  string         `json:"platforms,omitempty"` // comma-separated, "" for all
	By         string         `json:"by,omitempty"`        // who asked (a user of the web app), "" for the connector itself
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt time.Time      `json:"finished_at,omitzero"` // zero while running (or when the process died)
	Counts     map[string]int `json:"counts"`
	Error      string         `json:"error,omitempty"`
}

// RunFilter selects runs. Zero fields match everything.
type RunFilter struct {
	Kind     string
	BeforeID int64 // only runs with a smaller id (paging)
	Limit    int   // 0: 100
}

// WebState is what the web app keeps across restarts: signed-in
// sessions, the plans made for review, and the segment definitions
// written with the segment builder.
type WebState interface {
	// SessionPut stores (or replaces) a session by the hash of its cookie.
	SessionPut(ctx context.Context, s WebSession) error
	// Session returns a session that has not expired at now, or an error
	// wrapping ErrNotFound.
	Session(ctx context.Context, key string, now time.Time) (WebSession, error)
	// SessionDelete forgets a session, and every session expired at now.
	SessionDelete(ctx context.Context, key string, now time.Time) error

	// PlanPut stores (or replaces) a plan made for review.
	PlanPut(ctx context.Context, p SavedPlan) error
	// SavedPlan returns one plan by fingerprint, or an error wrapping
	// ErrNotFound.
	SavedPlan(ctx context.Context, fingerprint string) (SavedPlan, error)
	// SavedPlans lists the newest limit plans, newest first.
	SavedPlans(ctx context.Context, limit int) ([]SavedPlan, error)

	// DefinitionPut stores (or replaces) a segment definition by name.
	DefinitionPut(ctx context.Context, d StoredDefinition) error
	// DefinitionDelete removes a stored definition (none is no error).
	DefinitionDelete(ctx context.Context, name string) error
	// Definitions lists the stored definitions by name.
	Definitions(ctx context.Context) ([]StoredDefinition, error)
}

// WebSession is a signed-in user of the web app. Key is the SHA-256 of
// the session cookie (hex), so the store never holds a usable cookie.
type WebSession struct {
	Key     string
	Name    string
	Role    string
	CSRF    string
	Expires time.Time
}

// SavedPlan is a plan made in the web app: its fingerprint, when it was
// made, and its view as JSON (what the web app shows and applies).
type SavedPlan struct {
	Fingerprint string
	MadeAt      time.Time
	View        []byte
}

// StoredDefinition is a segment definition written with the segment
// builder: its configuration as JSON, as the config file would hold it.
type StoredDefinition struct {
	Name       string    `json:"name"`
	Definition []byte    `json:"-"`
	UpdatedAt  time.Time `json:"updated_at"`
	UpdatedBy  string    `json:"updated_by"`
}
