package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/segconn/connector/internal/outbound"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/store"
)

// The outbound relay keeps its place in the membership history in the
// store's cursor table under this name.
const (
	relayPlatform = "outbound"
	relayObject   = "membership_history"
)

// relayPage is how many history entries the relay publishes per step.
const relayPage = 1000

// Apply records a plan, queues its write-back (marking the webhook events
// inboxDone processed with it) and relays the membership changes it
// recorded to the outbound webhooks. The caller holds LockSegments; the
// use cases below take it themselves.
//
// The changes reach the outbound webhooks through the membership history,
// which the plan's own transaction writes: when relaying fails, or the
// process dies right after recording, the next relay (after the next plan,
// at the daemon's start, or its periodic catch-up) publishes them.
func (a *App) Apply(ctx context.Context, plan *pipeline.Plan, inboxDone ...int64) error {
	if err := a.Pipeline.Apply(ctx, plan, inboxDone...); err != nil {
		return err
	}
	if a.Outbound == nil || len(plan.Memberships) == 0 {
		return nil
	}
	if _, err := a.RelaySegmentEvents(ctx); err != nil && ctx.Err() == nil {
		a.Log.Warn("relaying segment events to the outbound webhooks; they stay in the membership history for the next attempt", "err", err)
	}
	return nil
}

// RelaySegmentEvents publishes every membership change recorded since its
// last run to the outbound webhooks and returns how many it published. It
// reads the membership history from its cursor, queues the events, then
// moves the cursor: a crash between the two queues the same events again,
// and the delivery queue keeps one delivery per endpoint and event id, so
// each change is sent once.
//
// Callers hold LockSegments. History entries are numbered when inserted,
// not when committed; on PostgreSQL only a relay that no plan can be
// recorded beside sees every number below the newest one committed.
func (a *App) RelaySegmentEvents(ctx context.Context) (int, error) {
	if a.Outbound == nil {
		return 0, nil
	}
	cur, err := a.Store.Cursor(ctx, relayPlatform, "", relayObject)
	if err != nil {
		return 0, fmt.Errorf("reading the outbound relay's place: %w", err)
	}
	after, err := strconv.ParseInt(cur, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("the outbound relay's place %q is not a history number: %w", cur, err)
	}
	// A segment is named "<definition>:<group>", or after its definition.
	kinds := map[string]string{}
	keepOptedOut := map[string]bool{}
	for _, d := range a.Engine.Definitions() {
		kinds[d.Name] = string(d.Kind)
		keepOptedOut[d.Name] = d.OutboundIncludeOptedOut
	}
	defOf := func(segment string) string {
		def, _, _ := strings.Cut(segment, ":")
		return def
	}
	people := map[string]relayPerson{}
	published, withheld := 0, 0
	defer func() {
		if withheld > 0 {
			a.Log.Info("segment events of people who opted out of marketing were not sent", "events", withheld)
		}
	}()
	for {
		page, err := a.Store.MembershipHistorySince(ctx, after, relayPage)
		if err != nil {
			return published, err
		}
		if len(page) == 0 {
			return published, nil
		}
		events := make([]outbound.Event, 0, len(page))
		for _, m := range page {
			who, ok := people[m.ProfileID]
			if !ok {
				who, err = a.relayPerson(ctx, m.ProfileID)
				if err != nil {
					return published, err
				}
				people[m.ProfileID] = who
			}
			if who.optedOut && !keepOptedOut[defOf(m.Segment)] {
				withheld++
				continue
			}
			events = append(events, segmentEvent(m, kinds[defOf(m.Segment)], who.email))
		}
		if len(events) > 0 {
			if _, err := a.Outbound.Publish(ctx, events); err != nil {
				return published, fmt.Errorf("publishing %d segment events: %w", len(events), err)
			}
		}
		after = page[len(page)-1].Seq
		if err := a.Store.SetCursor(ctx, relayPlatform, "", relayObject, strconv.FormatInt(after, 10)); err != nil {
			return published, fmt.Errorf("moving the outbound relay's place to %d: %w", after, err)
		}
		published += len(events)
	}
}

// startRelay places a new outbound relay at the end of the history:
// outbound webhooks receive the changes recorded after they were first
// configured, not the whole past.
func startRelay(ctx context.Context, st store.Store) error {
	cur, err := st.Cursor(ctx, relayPlatform, "", relayObject)
	if err != nil || cur != "" {
		return err
	}
	head, err := st.MembershipHistoryHead(ctx)
	if err != nil {
		return err
	}
	return st.SetCursor(ctx, relayPlatform, "", relayObject, strconv.FormatInt(head, 10))
}

// CatchUpRelay publishes segment changes that no relay has published yet:
// those a crash right after recording a plan, or a failed relay, left in
// the membership history. It takes the segment lock only when something
// waits, and returns how many events it published.
func (a *App) CatchUpRelay(ctx context.Context) (int, error) {
	behind, err := a.relayBehind(ctx)
	if err != nil || !behind {
		return 0, err
	}
	unlock, err := a.LockSegments(ctx)
	if err != nil {
		return 0, err
	}
	defer unlock()
	return a.RelaySegmentEvents(ctx)
}

// relayBehind reports whether history entries wait for the relay.
func (a *App) relayBehind(ctx context.Context) (bool, error) {
	cur, err := a.Store.Cursor(ctx, relayPlatform, "", relayObject)
	if err != nil {
		return false, err
	}
	head, err := a.Store.MembershipHistoryHead(ctx)
	if err != nil {
		return false, err
	}
	return strconv.FormatInt(head, 10) != cur, nil
}

// relayPerson is what the relay needs of a profile: its primary email,
// and whether it opted out of marketing (no segment events then, unless
// the definition sets outbound_include_opted_out).
type relayPerson struct {
	email    string
	optedOut bool
}

// relayPerson reads a profile for its segment events; a profile that is
// gone (merged away or erased) has no email.
func (a *App) relayPerson(ctx context.Context, id string) (relayPerson, error) {
	p, err := a.Store.Profile(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return relayPerson{}, nil
	}
	if err != nil {
		return relayPerson{}, fmt.Errorf("reading profile %s for its segment events: %w", id, err)
	}
	return relayPerson{email: p.PrimaryEmail(), optedOut: pipeline.OptedOut(&p)}, nil
}

func segmentEvent(m store.MembershipEvent, kind, email string) outbound.Event {
	typ := outbound.EventLeft
	if m.Entered {
		typ = outbound.EventEntered
	}
	return outbound.Event{Type: typ, OccurredAt: m.At, Segment: m.Segment, SegmentKind: kind,
		ProfileID: m.ProfileID, Email: email, Control: m.Control, Reason: m.Reason}
}
