package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// load reads the links, emails, profiles and orders the page can touch.
func (u *unit) load(ctx context.Context, chs []adapter.Change) error {
	keySet := map[string]bool{}
	emailSet := map[string]bool{}
	var orderKeys, companyKeys []string
	for _, c := range chs {
		keySet[c.Ref.Key()] = true
		if !c.MergedInto.IsZero() {
			keySet[c.MergedInto.Key()] = true
		}
		if ct := c.Contact; ct != nil {
			for _, e := range identity.Emails(ct) {
				emailSet[e] = true
			}
			for _, id := range ct.MergedIDs {
				keySet[identity.MergedRef(ct.Ref, id).Key()] = true
			}
		}
		if o := c.Order; o != nil {
			if !o.CustomerRef.IsZero() {
				keySet[o.CustomerRef.Key()] = true
			}
			if e := domain.NormalizeEmail(o.BillingEmail); e != "" {
				emailSet[e] = true
				keySet[identity.GuestRef(o, e).Key()] = true
			}
		}
		if identity.IsOrder(c.Ref) {
			orderKeys = append(orderKeys, c.Ref.Key())
		}
		if identity.IsCompany(c.Ref) {
			companyKeys = append(companyKeys, c.Ref.Key())
		}
	}
	profileIDs := map[string]bool{}
	if err := u.loadLinks(ctx, "ref_key", slices.Collect(maps.Keys(keySet)), profileIDs); err != nil {
		return err
	}
	err := u.eachKeys(slices.Collect(maps.Keys(emailSet)), func(cond string, arg any) error {
		rows, err := u.e.query(ctx, u.tx, u.e.q(`SELECT email, profile_id FROM profile_emails WHERE email `+cond), arg)
		if err != nil {
			return fmt.Errorf("loading emails: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e, p string
			if err := rows.Scan(&e, &p); err != nil {
				return fmt.Errorf("loading emails: %w", err)
			}
			u.Emails[e] = p
			profileIDs[p] = true
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	err = u.eachKeys(orderKeys, func(cond string, arg any) error {
		rows, err := u.e.query(ctx, u.tx, u.e.q(`SELECT ref_key, profile_id, updated_at, digest FROM orders WHERE ref_key `+cond), arg)
		if err != nil {
			return fmt.Errorf("loading orders: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var o identity.StoredOrder
			var up int64
			if err := rows.Scan(&k, &o.ProfileID, &up, &o.Digest); err != nil {
				return fmt.Errorf("loading orders: %w", err)
			}
			o.UpdatedAt = fromTS(up)
			u.Orders[k] = o
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	// Profiles whose contacts point at a company in this page are refolded.
	if len(companyKeys) > 0 {
		if err := u.loadCompanies(ctx, companyKeys); err != nil {
			return err
		}
		if err := u.loadLinks(ctx, "company_key", companyKeys, profileIDs); err != nil {
			return err
		}
		for _, l := range u.Links {
			if l.CompanyKey != "" && slices.Contains(companyKeys, l.CompanyKey) {
				profileIDs[l.ProfileID] = true
			}
		}
	}
	delete(profileIDs, "")
	return u.loadProfiles(ctx, slices.Collect(maps.Keys(profileIDs)))
}

func (u *unit) loadLinks(ctx context.Context, col string, keys []string, profileIDs map[string]bool) error {
	return u.eachKeys(keys, func(cond string, arg any) error {
		rows, err := u.e.query(ctx, u.tx, u.e.q(`SELECT ref_key, platform, account, object_type, ext_id, profile_id, state, merged_into, placeholder, company_key, linked_at, updated_at, data FROM links WHERE `+col+` `+cond), arg)
		if err != nil {
			return fmt.Errorf("loading links: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			l := &identity.Link{}
			var ph int
			var linked, updated int64
			var data string
			if err := rows.Scan(&l.Key, &l.Ref.Platform, &l.Ref.Account, &l.Ref.ObjectType, &l.Ref.ID, &l.ProfileID, &l.State, &l.MergedInto, &ph, &l.CompanyKey, &linked, &updated, &data); err != nil {
				return fmt.Errorf("loading links: %w", err)
			}
			if _, ok := u.Links[l.Key]; ok {
				continue
			}
			l.Placeholder = ph != 0
			l.LinkedAt, l.UpdatedAt = fromTS(linked), fromTS(updated)
			var ld linkData
			if err := json.Unmarshal([]byte(data), &ld); err != nil {
				return fmt.Errorf("decoding link %s: %w", l.Key, err)
			}
			l.Contact, l.Times = ld.Contact, ld.FieldTimes
			u.Links[l.Key] = l
			if u.storedLinks == nil {
				u.storedLinks = map[string]bool{}
			}
			u.storedLinks[l.Key] = true
			if profileIDs != nil {
				profileIDs[l.ProfileID] = true
			}
		}
		return rows.Err()
	})
}

func (u *unit) loadCompanies(ctx context.Context, keys []string) error {
	var need []string
	for _, k := range keys {
		if _, ok := u.Companies[k]; !ok && k != "" && !u.CompanyGone[k] {
			need = append(need, k)
		}
	}
	return u.eachKeys(need, func(cond string, arg any) error {
		rows, err := u.e.query(ctx, u.tx, u.e.q(`SELECT ref_key, data FROM companies WHERE ref_key `+cond), arg)
		if err != nil {
			return fmt.Errorf("loading companies: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k, data string
			if err := rows.Scan(&k, &data); err != nil {
				return fmt.Errorf("loading companies: %w", err)
			}
			var c domain.Company
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				return fmt.Errorf("decoding company %s: %w", k, err)
			}
			u.Companies[k] = &c
		}
		return rows.Err()
	})
}

// loadProfiles reads profile rows, all their links and emails.
func (u *unit) loadProfiles(ctx context.Context, ids []string) error {
	err := u.eachKeys(ids, func(cond string, arg any) error {
		rows, err := u.e.query(ctx, u.tx, u.e.q(`SELECT id, row_created, data FROM profiles WHERE id `+cond), arg)
		if err != nil {
			return fmt.Errorf("loading profiles: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p := &identity.ProfileState{}
			var rc int64
			if err := rows.Scan(&p.ID, &rc, &p.OldData); err != nil {
				return fmt.Errorf("loading profiles: %w", err)
			}
			p.RowCreated = fromTS(rc)
			u.Profiles[p.ID] = p
			if u.storedProfiles == nil {
				u.storedProfiles = map[string]bool{}
			}
			u.storedProfiles[p.ID] = true
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	if err := u.loadLinks(ctx, "profile_id", ids, nil); err != nil {
		return err
	}
	return u.eachKeys(ids, func(cond string, arg any) error {
		rows, err := u.e.query(ctx, u.tx, u.e.q(`SELECT email, profile_id FROM profile_emails WHERE profile_id `+cond), arg)
		if err != nil {
			return fmt.Errorf("loading profile emails: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e, p string
			if err := rows.Scan(&e, &p); err != nil {
				return fmt.Errorf("loading profile emails: %w", err)
			}
			u.Emails[e] = p
		}
		return rows.Err()
	})
}

// eachKeys calls fn once with a condition matching keys (see keysIn) and
// its argument; it does nothing for no keys.
func (u *unit) eachKeys(keys []string, fn func(cond string, arg any) error) error {
	if len(keys) == 0 {
		return nil
	}
	return fn(u.e.keysIn(keys))
}
