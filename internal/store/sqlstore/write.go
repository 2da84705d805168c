package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// write stores everything the unit decided, table by table. Companies
// that profiles to refold point at are loaded first, so folding sees
// their firmographics.
func (u *unit) write(ctx context.Context) error {
	if err := u.loadCompanies(ctx, u.CompaniesToFold()); err != nil {
		return err
	}
	for _, step := range []func(context.Context) error{
		u.writeCompanies, u.writeProfiles, u.writeLinks, u.writeMerges, u.writeOrders, u.writeErasures, u.writeErasureRecords, u.writeQuarantine,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	touched := map[string]bool{}
	for id := range u.Touched {
		if id != "" {
			touched[u.Resolve(id)] = true
		}
	}
	u.Result.Touched = slices.Sorted(maps.Keys(touched))
	var created []string
	for _, c := range u.Result.Created {
		if !u.Profiles[c].Gone {
			created = append(created, c)
		}
	}
	u.Result.Created = created
	return nil
}

// writeCompanies upserts changed companies and deletes removed ones.
func (u *unit) writeCompanies(ctx context.Context) error {
	tx, e := u.tx, u.e
	var compRows [][]any
	for k := range u.CompanyDirty {
		c := u.Companies[k]
		data, _ := json.Marshal(c)
		compRows = append(compRows, []any{k, c.Ref.Platform, c.Ref.Account, c.Ref.ObjectType, c.Ref.ID, ts(c.UpdatedAt), string(data)})
	}
	compCols := []string{"ref_key", "platform", "account", "object_type", "ext_id", "updated_at", "data"}
	if err := e.bulkInsert(ctx, tx, "companies", compCols, upsertSuffix(compCols, "ref_key"), compRows); err != nil {
		return err
	}
	if err := inList(slices.Collect(maps.Keys(u.CompanyGone)), func(list string, args []any) error {
		_, err := tx.ExecContext(ctx, e.q(`DELETE FROM companies WHERE ref_key IN `+list), args...)
		return err
	}); err != nil {
		return fmt.Errorf("deleting companies: %w", err)
	}
	return nil
}

// writeErasures blanks what a privacy erasure leaves outside the profile:
// order billing emails, merge evidence, quarantined raw records.
func (u *unit) writeErasures(ctx context.Context) error {
	tx, e := u.tx, u.e
	for _, pid := range u.Erase {
		pid = u.Resolve(pid)
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE orders SET billing_email = '' WHERE profile_id = ?`), pid); err != nil {
			return fmt.Errorf("erasing order emails of %s: %w", pid, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE profile_merges SET evidence = '(erased)' WHERE into_id = ? OR from_id = ?`), pid, pid); err != nil {
			return fmt.Errorf("erasing merge evidence of %s: %w", pid, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM quarantine WHERE ref_key IN (SELECT ref_key FROM links WHERE profile_id = ?)`), pid); err != nil {
			return fmt.Errorf("erasing quarantined records of %s: %w", pid, err)
		}
		u.Touched[pid] = true
	}
	return nil
}

// writeQuarantine stores rejected records: one row per (record, reason); the
// last of the page wins, and a row already stored is refreshed rather than
// repeated.
func (u *unit) writeQuarantine(ctx context.Context) error {
	tx, e := u.tx, u.e
	// already stored is refreshed rather than repeated.
	seen := map[[2]string]int{}
	var quar [][]any
	for _, r := range u.quarant {
		k := [2]string{r[3].(string), r[5].(string)}
		if i, ok := seen[k]; ok {
			quar[i] = r
			continue
		}
		seen[k] = len(quar)
		quar = append(quar, r)
	}
	if err := e.bulkInsert(ctx, tx, "quarantine", []string{"platform", "account", "object", "ref_key", "ref", "reason", "raw", "at"},
		"ON CONFLICT (ref_key, reason) DO UPDATE SET platform = excluded.platform, account = excluded.account, object = excluded.object, ref = excluded.Ref, raw = excluded.raw, at = excluded.at",
		quar); err != nil {
		return err
	}
	return nil
}
