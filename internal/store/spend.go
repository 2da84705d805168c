package store

import (
	"context"
	"time"
)

// Spend is money spent on one segment's campaigns in a period, entered
// in the web app, for ROI (the configuration's spend entries are the
// other source).
type Spend struct {
	ID          int64     `json:"id"`
	Segment     string    `json:"segment"`
	AmountMinor int64     `json:"amount_minor"` // minor units of Currency
	Currency    string    `json:"currency"`
	From        time.Time `json:"from"` // the first day
	To          time.Time `json:"to"`   // the day after the last
	Note        string    `json:"note,omitempty"`
	By          string    `json:"by"` // the user who entered it
	CreatedAt   time.Time `json:"created_at"`
}

// Spends keeps the spend entered in the app.
type Spends interface {
	// AddSpend stores an entry and returns its id.
	AddSpend(ctx context.Context, s Spend) (int64, error)
	// SpendEntries lists every entry, newest period first.
	SpendEntries(ctx context.Context) ([]Spend, error)
	// DeleteSpend removes an entry; ErrNotFound when there is none.
	DeleteSpend(ctx context.Context, id int64) error
}
