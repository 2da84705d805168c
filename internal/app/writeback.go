package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
)

// Drain pushes the platform's queued write-back until none is due, a call
// fails, or ctx ends.
func (a *App) Drain(ctx context.Context, platform string) (pipeline.DrainStats, error) {
	st, err := a.Pipeline.Drain(ctx, platform)
	a.observe(platform, "push", err, st.Calls > 0)
	return st, err
}

// DrainRound pushes one round of the platform's due write-back.
func (a *App) DrainRound(ctx context.Context, platform string) (pipeline.DrainStats, error) {
	st, err := a.Pipeline.DrainRound(ctx, platform)
	a.observe(platform, "push", err, st.Calls > 0)
	return st, err
}

// DrainProperties pushes a paced platform's due property changes and
// defers its membership changes to the next multiple of membershipEvery.
func (a *App) DrainProperties(ctx context.Context, platform string, membershipEvery time.Duration) (pipeline.DrainStats, error) {
	st, err := a.Pipeline.DrainProperties(ctx, platform, membershipEvery)
	a.observe(platform, "push", err, st.Calls > 0)
	return st, err
}

// DrainMemberships pushes every membership change DrainProperties
// deferred that is now due.
func (a *App) DrainMemberships(ctx context.Context, platform string) (pipeline.DrainStats, error) {
	st, err := a.Pipeline.DrainMemberships(ctx, platform)
	a.observe(platform, "push", err, st.Calls > 0)
	return st, err
}

// SegmentSizes counts every segment's members in the store, holdout
// members included; a segment of this process's last full run that has
// emptied reads 0 rather than being absent.
func (a *App) SegmentSizes(ctx context.Context) (map[string]int, error) {
	sizes, err := a.Store.SegmentSizes(ctx)
	if err != nil {
		return nil, err
	}
	if res := a.Pipeline.LastResult(); res != nil {
		for _, s := range res.Segments {
			sizes[s.Name] += 0
		}
	}
	return sizes, nil
}

// ParkedWrite is a write-back item parked after a permanent failure: the
// platform refused it, and it is not retried until someone requeues it.
type ParkedWrite struct {
	ID       int64     `json:"id"`
	Platform string    `json:"platform"`
	Account  string    `json:"account,omitempty"`
	Record   string    `json:"record"` // the platform record: object type/id
	Error    string    `json:"error"`
	Attempts int       `json:"attempts"`
	FailedAt time.Time `json:"failed_at"`
}

// FailedWriteback lists the parked write-back items of one platform (every
// platform when platform is ""), newest failure first; limit <= 0 lists
// them all.
func (a *App) FailedWriteback(ctx context.Context, platform string, limit int) ([]ParkedWrite, error) {
	return FailedWriteback(ctx, a.Store, platform, limit)
}

// RetryWriteback requeues parked write-back items (see RetryWritebackIn).
func (a *App) RetryWriteback(ctx context.Context, ids []int64, all bool) (RetryReport, error) {
	return RetryWritebackIn(ctx, a.Store, ids, all)
}

// FailedWriteback is App.FailedWriteback on a store alone, for commands
// that need no platform.
func FailedWriteback(ctx context.Context, st store.Store, platform string, limit int) ([]ParkedWrite, error) {
	items, err := st.OutboxParked(ctx, platform, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ParkedWrite, 0, len(items))
	for _, it := range items {
		out = append(out, ParkedWrite{ID: it.ID, Platform: it.Platform, Account: it.Account, Record: recordOfKey(it.Key),
			Error: it.LastError, Attempts: it.Attempts, FailedAt: it.UpdatedAt})
	}
	return out, nil
}

// RetryReport says what RetryWriteback did.
type RetryReport struct {
	// Requeued items are due again now.
	Requeued int `json:"requeued"`
	// Superseded items had a newer state of their record queued, which
	// is written instead and settles them.
	Superseded int `json:"superseded"`
}

// ErrNothingToRetry is returned by RetryWritebackIn when neither ids nor
// all was given.
var ErrNothingToRetry = errors.New("name the failed write-back items to retry, or ask for all of them")

// RetryWritebackIn makes parked write-back items due again: the ones
// named by id, or every parked item with all. An id that is not a parked
// item is an error naming it, and nothing is requeued.
func RetryWritebackIn(ctx context.Context, st store.Store, ids []int64, all bool) (RetryReport, error) {
	if !all && len(ids) == 0 {
		return RetryReport{}, ErrNothingToRetry
	}
	parked, err := st.OutboxParked(ctx, "", 0)
	if err != nil {
		return RetryReport{}, err
	}
	known := make(map[int64]bool, len(parked))
	for _, it := range parked {
		known[it.ID] = true
	}
	if all {
		ids = make([]int64, 0, len(parked))
		for _, it := range parked {
			ids = append(ids, it.ID)
		}
	} else {
		var unknown []string
		for _, id := range ids {
			if !known[id] {
				unknown = append(unknown, strconv.FormatInt(id, 10))
			}
		}
		if len(unknown) > 0 {
			return RetryReport{}, fmt.Errorf("no failed write-back item with id %s (see `connector writeback failed`)", strings.Join(unknown, ", "))
		}
	}
	if len(ids) == 0 {
		return RetryReport{}, nil
	}
	n, err := st.OutboxRequeue(ctx, ids)
	if err != nil {
		return RetryReport{}, err
	}
	return RetryReport{Requeued: n, Superseded: len(ids) - n}, nil
}

// recordOfKey turns an outbox key (a record's ref key: platform, account,
// object type and id) into "object type/id"; other keys are shown whole.
func recordOfKey(key string) string {
	parts := strings.SplitN(key, "/", 4)
	if len(parts) != 4 {
		return key
	}
	return parts[2] + "/" + parts[3]
}
