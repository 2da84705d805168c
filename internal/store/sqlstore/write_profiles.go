package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// writeProfiles refolds every marked profile, writes those whose data
// changed, deletes profiles merged away and rebuilds their email index.
func (u *unit) writeProfiles(ctx context.Context) error {
	tx, e := u.tx, u.e
	byProfile := u.LinksByProfile()
	var gone, refolded []string
	var profRows, emailRows [][]any
	for _, id := range slices.Sorted(maps.Keys(u.Profiles)) {
		p := u.Profiles[id]
		if p.Gone {
			gone = append(gone, id)
			continue
		}
		if !p.Refold {
			continue
		}
		if err := u.FoldProfile(p, byProfile[id]); err != nil {
			return err
		}
		refolded = append(refolded, id)
		for _, em := range p.Emails {
			emailRows = append(emailRows, []any{em, id})
		}
		if p.NewData != p.OldData {
			primary := ""
			if len(p.Emails) > 0 {
				primary = p.Emails[0]
			}
			profRows = append(profRows, []any{id, primary, ts(p.RowCreated), ts(p.UpdatedAt), p.NewData})
			u.Touched[id] = true
		}
	}
	if err := inList(gone, func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM profiles WHERE id IN `+list), args...); err != nil {
			return fmt.Errorf("deleting merged profiles: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	profCols := []string{"id", "primary_email", "row_created", "updated_at", "data"}
	// A profile load did not read is one resolution created, under a
	// new id.
	isNew := func(r []any) bool { return !u.storedProfiles[r[0].(string)] }
	if err := u.bulkWriteSplit(ctx, "profiles", profCols, upsertSuffix(profCols, "id"), profRows, isNew); err != nil {
		return err
	}
	// Emails: rebuilt for every refolded or merged-away profile.
	if err := inList(append(slices.Clone(gone), refolded...), func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM profile_emails WHERE profile_id IN `+list), args...); err != nil {
			return fmt.Errorf("clearing profile emails: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := u.bulkWrite(ctx, "profile_emails", []string{"email", "profile_id"}, "ON CONFLICT (email) DO UPDATE SET profile_id = excluded.profile_id", emailRows); err != nil {
		return err
	}
	return nil
}

// writeLinks upserts every dirty link with its record and field times.
func (u *unit) writeLinks(ctx context.Context) error {
	var Links [][]any
	for _, k := range slices.Sorted(maps.Keys(u.Links)) {
		l := u.Links[k]
		if !l.Dirty {
			continue
		}
		data, _ := json.Marshal(linkData{Contact: l.Contact, FieldTimes: l.Times})
		Links = append(Links, []any{l.Key, l.Ref.Platform, l.Ref.Account, l.Ref.ObjectType, l.Ref.ID, u.Resolve(l.ProfileID), string(l.State),
			l.MergedInto, b2i(l.Placeholder), l.CompanyKey, ts(l.LinkedAt), ts(l.UpdatedAt), string(data)})
	}
	linkCols := []string{"ref_key", "platform", "account", "object_type", "ext_id", "profile_id", "state", "merged_into", "placeholder", "company_key", "linked_at", "updated_at", "data"}
	// A link load did not read was looked up by its key and not found,
	// or is a record resolution met for the first time.
	isNew := func(r []any) bool { return !u.storedLinks[r[0].(string)] }
	if err := u.bulkWriteSplit(ctx, "links", linkCols, upsertSuffix(linkCols, "ref_key"), Links, isNew); err != nil {
		return err
	}
	return nil
}

// writeMerges moves orders, memberships and events of merged-away profiles
// to their survivor and records merges and identity events.
func (u *unit) writeMerges(ctx context.Context) error {
	tx, e := u.tx, u.e
	for _, m := range u.Merges {
		into := u.Resolve(m.Into)
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE orders SET profile_id = ? WHERE profile_id = ?`), into, m.From); err != nil {
			return fmt.Errorf("moving orders of merged profile %s: %w", m.From, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO membership_history (profile_id, segment, entered, at, control, reason)
			SELECT profile_id, segment, 0, ?, control, ? FROM memberships WHERE profile_id = ?`), ts(u.Now), "merged into "+into, m.From); err != nil {
			return fmt.Errorf("closing memberships of merged profile %s: %w", m.From, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM memberships WHERE profile_id = ?`), m.From); err != nil {
			return fmt.Errorf("closing memberships of merged profile %s: %w", m.From, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE identity_events SET profile_id = ? WHERE profile_id = ?`), into, m.From); err != nil {
			return fmt.Errorf("moving events of merged profile %s: %w", m.From, err)
		}
		u.Touched[into] = true
	}
	var mergeRows, eventRows [][]any
	for _, m := range u.Merges {
		mergeRows = append(mergeRows, []any{m.From, m.Into, ts(m.At), m.Reason, m.Evidence})
	}
	for _, ev := range u.Events {
		eventRows = append(eventRows, []any{ts(ev.At), u.Resolve(ev.ProfileID), ev.Kind, ev.RefKey, ev.Detail})
	}
	if err := e.bulkInsert(ctx, tx, "profile_merges", []string{"from_id", "into_id", "at", "reason", "evidence"}, "", mergeRows); err != nil {
		return err
	}
	if err := e.bulkInsert(ctx, tx, "identity_events", []string{"at", "profile_id", "kind", "ref_key", "detail"}, "", eventRows); err != nil {
		return err
	}
	return nil
}
