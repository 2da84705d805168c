package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Erasure on request, and the platform deletions that follow.
//
// Erase removes a person's data from the store in one transaction (see
// store.Privacy: profile, records, orders' emails, webhook payloads,
// outbound deliveries, quarantine) and suppresses their email hash so no
// later pull, webhook or import brings them back; then it asks every
// platform holding one of their records to delete it, through the
// adapter's optional adapter.Eraser. A platform that fails is retried by
// RetryErasures with a growing delay until it confirms; Erasures lists
// what is still pending. A platform's own privacy deletion (HubSpot's
// contact.privacyDeletion) goes the same way, fanned out to the other
// platforms unless Options.NoPrivacyFanOut.

// erasureRetry bounds the delay between attempts at one platform deletion.
const (
	erasureRetryMin = 30 * time.Second
	erasureRetryMax = time.Hour
)

// Erase erases a person, found by email or profile id, from the store and
// from every platform, and returns the audit entry as it stands after the
// first attempt at each platform. by names who asked (an operator).
func (a *App) Erase(ctx context.Context, key, by string) (store.Erasure, error) {
	if by == "" {
		return store.Erasure{}, errors.New("erasing: say who asks for the erasure")
	}
	p, err := FindProfile(ctx, a.Store, key)
	if err != nil {
		if isEmail(key) {
			if ok, serr := a.Store.Suppressed(ctx, key); serr == nil && ok {
				return store.Erasure{}, fmt.Errorf("erasing: that email was erased before and is suppressed")
			}
		}
		return store.Erasure{}, fmt.Errorf("erasing: %w", err)
	}
	er, err := a.Store.Erase(ctx, p.ID, store.ErasureRequest{RequestedBy: by, Source: "request"})
	if err != nil {
		return store.Erasure{}, err
	}
	a.Log.Info("erased a profile from the store", "erasure", er.ID, "profile", er.ProfileID, "platform_records", len(er.Tasks))
	if _, err := a.RetryErasures(ctx, time.Now()); err != nil {
		a.Log.Warn("asking the platforms to erase; the deletions stay pending and are retried", "erasure", er.ID, "err", err)
	}
	return a.erasure(ctx, er.ID)
}

// RetryErasures sends the platform deletions due at now and records each
// platform's answer; it returns how many it settled for good. A failed
// deletion is due again after a delay that doubles from 30 s to 1 h;
// the daemon calls this on a schedule, so every platform is asked until
// it confirms.
func (a *App) RetryErasures(ctx context.Context, now time.Time) (int, error) {
	due, err := a.Store.ErasureTasksDue(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	sources := map[int64]string{}
	settled := 0
	var errs []error
	for _, t := range due {
		src, ok := sources[t.ErasureID]
		if !ok {
			er, err := a.erasure(ctx, t.ErasureID)
			if err != nil {
				return settled, err
			}
			src, sources[t.ErasureID] = er.Source, er.Source
		}
		status, answer := a.erasePlatformRecord(ctx, t.Ref, src)
		retryAt := time.Time{}
		if status == store.ErasurePending {
			retryAt = now.Add(erasureBackoff(t.Attempts))
		} else {
			settled++
		}
		if err := a.Store.SettleErasureTask(ctx, t.ErasureID, t.Ref.Key(), status, answer, retryAt); err != nil {
			errs = append(errs, err)
		}
		a.Log.Info("platform erasure", "erasure", t.ErasureID, "platform", t.Ref.Platform, "status", status, "answer", answer)
	}
	return settled, errors.Join(errs...)
}

// fanOutPrivacyDeletions asks the other platforms to erase the person a
// platform's privacy deletion erased (the store recorded their tasks
// with the erasure). A failure leaves the tasks for RetryErasures.
func (a *App) fanOutPrivacyDeletions(ctx context.Context, events []adapter.WebhookEvent) {
	for _, ev := range events {
		if ev.Privacy {
			if _, err := a.RetryErasures(ctx, time.Now()); err != nil {
				a.Log.Warn("fanning a privacy deletion out to the other platforms; retried later", "err", err)
			}
			return
		}
	}
}

// erasePlatformRecord asks the record's platform to erase it and turns
// the answer into a task status.
func (a *App) erasePlatformRecord(ctx context.Context, ref domain.ExternalRef, source string) (store.ErasureStatus, string) {
	if source != "request" && a.opts.NoPrivacyFanOut {
		return store.ErasureSkipped, "fan-out of platform privacy deletions is off"
	}
	ad, ok := a.Adapters[ref.Platform]
	if !ok {
		return store.ErasurePending, "the platform is not configured"
	}
	er, ok := ad.(adapter.Eraser)
	if !ok {
		return store.ErasureUnsupported, "the adapter cannot erase records; delete the record on the platform by hand"
	}
	out, err := er.Erase(ctx, ref)
	switch {
	case err == nil:
		return store.ErasureDone, string(out)
	case errors.Is(err, adapter.ErrRecordGone):
		return store.ErasureGone, "the platform no longer has the record"
	case errors.Is(err, adapter.ErrUnsupported):
		return store.ErasureUnsupported, err.Error()
	default:
		return store.ErasurePending, err.Error()
	}
}

// erasureBackoff doubles from erasureRetryMin up to erasureRetryMax.
func erasureBackoff(attempts int) time.Duration {
	d := erasureRetryMin
	for range attempts {
		d *= 2
		if d >= erasureRetryMax {
			return erasureRetryMax
		}
	}
	return d
}

// Erasures lists erasure audit entries, newest first; open keeps those
// with a platform deletion still pending.
func (a *App) Erasures(ctx context.Context, open bool, limit int) ([]store.Erasure, error) {
	return a.Store.Erasures(ctx, open, limit)
}

func (a *App) erasure(ctx context.Context, id int64) (store.Erasure, error) {
	return a.Store.Erasure(ctx, id)
}

func isEmail(key string) bool { return strings.Contains(key, "@") }
