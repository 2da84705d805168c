package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// survivor follows recorded merges from id to the profile that absorbed it.
func (e *Engine) survivor(ctx context.Context, x execer, id string) (string, error) {
	for i := 0; i < 64; i++ {
		var into string
		err := x.QueryRowContext(ctx, e.q(`SELECT into_id FROM profile_merges WHERE from_id = ? ORDER BY id DESC LIMIT 1`), id).Scan(&into)
		if errors.Is(err, sql.ErrNoRows) {
			return id, nil
		}
		if err != nil {
			return "", fmt.Errorf("following merges of %s: %w", id, err)
		}
		id = into
	}
	return id, nil
}

// profiles loads profiles by id (in the order given) with their refs.
func (e *Engine) profiles(ctx context.Context, x execer, ids []string) ([]domain.Profile, error) {
	byID := map[string]*domain.Profile{}
	err := inList(ids, func(list string, args []any) error {
		rows, err := x.QueryContext(ctx, e.q(`SELECT id, data FROM profiles WHERE id IN `+list), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, data string
			if err := rows.Scan(&id, &data); err != nil {
				return err
			}
			p := &domain.Profile{}
			if err := json.Unmarshal([]byte(data), p); err != nil {
				return fmt.Errorf("decoding profile %s: %w", id, err)
			}
			byID[id] = p
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading profiles: %w", err)
	}
	err = inList(ids, func(list string, args []any) error {
		rows, err := x.QueryContext(ctx, e.q(`SELECT `+refColumns+` FROM links
			WHERE `+activeRefs+` AND profile_id IN `+list+` ORDER BY profile_id, ref_key`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			pid, r, err := scanRef(rows)
			if err != nil {
				return err
			}
			if p := byID[pid]; p != nil {
				p.Refs = append(p.Refs, r)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading profile links: %w", err)
	}
	out := make([]domain.Profile, 0, len(ids))
	for _, id := range ids {
		if p := byID[id]; p != nil {
			out = append(out, *p)
		}
	}
	return out, nil
}

func (e *Engine) oneProfile(ctx context.Context, id, what string) (domain.Profile, error) {
	ps, err := e.profiles(ctx, e.r, []string{id})
	if err != nil {
		return domain.Profile{}, err
	}
	if len(ps) == 0 {
		return domain.Profile{}, notFound(what)
	}
	return ps[0], nil
}

// Profile implements store.Store.
func (e *Engine) Profile(ctx context.Context, id string) (domain.Profile, error) {
	sid, err := e.survivor(ctx, e.r, id)
	if err != nil {
		return domain.Profile{}, err
	}
	return e.oneProfile(ctx, sid, "profile "+id)
}

// ProfileByEmail implements store.Store.
func (e *Engine) ProfileByEmail(ctx context.Context, email string) (domain.Profile, error) {
	n := domain.NormalizeEmail(email)
	if n == "" {
		return domain.Profile{}, fmt.Errorf("finding profile by email: %q is not an email address", email)
	}
	var id string
	err := e.r.QueryRowContext(ctx, e.q(`SELECT profile_id FROM profile_emails WHERE email = ?`), n).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Profile{}, notFound("profile with email " + n)
	}
	if err != nil {
		return domain.Profile{}, fmt.Errorf("finding profile by email: %w", err)
	}
	return e.oneProfile(ctx, id, "profile with email "+n)
}

// ProfileByRef implements store.Store.
func (e *Engine) ProfileByRef(ctx context.Context, ref domain.ExternalRef) (domain.Profile, error) {
	var id string
	err := e.r.QueryRowContext(ctx, e.q(`SELECT profile_id FROM links WHERE ref_key = ?`), ref.Key()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && id == "") {
		return domain.Profile{}, notFound("profile linked to " + ref.Key())
	}
	if err != nil {
		return domain.Profile{}, fmt.Errorf("finding profile by ref: %w", err)
	}
	return e.Profile(ctx, id)
}

// ListProfiles implements store.Store.
func (e *Engine) ListProfiles(ctx context.Context, after string, limit int) ([]domain.Profile, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT id FROM profiles WHERE id > ? ORDER BY id LIMIT ?`), after, limit)
	if err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing profiles: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing profiles: %w", err)
	}
	return e.profiles(ctx, e.r, ids)
}

// CountProfiles implements store.Store.
func (e *Engine) CountProfiles(ctx context.Context) (int, error) {
	var n int
	if err := e.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM profiles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting profiles: %w", err)
	}
	return n, nil
}

// Orders implements store.Store.
func (e *Engine) Orders(ctx context.Context, profileID string) ([]domain.Order, error) {
	id, err := e.survivor(ctx, e.r, profileID)
	if err != nil {
		return nil, err
	}
	m, err := e.ordersOf(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	return m[id], nil
}

// ordersOf reads the orders (with items) of profiles, oldest first.
func (e *Engine) ordersOf(ctx context.Context, ids []string) (map[string][]domain.Order, error) {
	out := map[string][]domain.Order{}
	var keys []string
	type pos struct {
		pid string
		i   int
	}
	where := map[string]pos{}
	err := inList(ids, func(list string, args []any) error {
		rows, err := e.r.QueryContext(ctx, e.q(`SELECT `+orderColumns+` FROM orders WHERE profile_id IN `+list+` ORDER BY profile_id, created_at, ref_key`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r orderRow
			if err := r.scan(rows); err != nil {
				return err
			}
			k, pid := r.key, r.pid
			o, err := r.decode(json.Unmarshal)
			if err != nil {
				return fmt.Errorf("decoding order %s: %w", k, err)
			}
			out[pid] = append(out[pid], o)
			where[k] = pos{pid, len(out[pid]) - 1}
			keys = append(keys, k)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading orders: %w", err)
	}
	err = inList(keys, func(list string, args []any) error {
		rows, err := e.r.QueryContext(ctx, e.q(`SELECT order_key, sku, name, category, quantity, unit_price, currency FROM order_items WHERE order_key IN `+list+` ORDER BY order_key, line_no`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var it domain.LineItem
			if err := rows.Scan(&k, &it.SKU, &it.Name, &it.Category, &it.Quantity, &it.UnitPrice.Amount, &it.UnitPrice.Currency); err != nil {
				return err
			}
			p := where[k]
			o := &out[p.pid][p.i]
			o.Items = append(o.Items, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("reading order items: %w", err)
	}
	return out, nil
}

// Company implements store.Store.
func (e *Engine) Company(ctx context.Context, ref domain.ExternalRef) (domain.Company, error) {
	if ref.ObjectType == "" {
		ref.ObjectType = domain.ObjectCompany
	}
	var data string
	err := e.r.QueryRowContext(ctx, e.q(`SELECT data FROM companies WHERE ref_key = ?`), ref.Key()).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Company{}, notFound("company " + ref.Key())
	}
	if err != nil {
		return domain.Company{}, fmt.Errorf("reading company %s: %w", ref.Key(), err)
	}
	var c domain.Company
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return domain.Company{}, fmt.Errorf("decoding company %s: %w", ref.Key(), err)
	}
	return c, nil
}

// Explain implements store.Store.
func (e *Engine) Explain(ctx context.Context, profileID string) (store.Explanation, error) {
	p, err := e.Profile(ctx, profileID)
	if err != nil {
		return store.Explanation{}, err
	}
	x := store.Explanation{Profile: p, Sources: p.Sources}
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT platform, account, object_type, ext_id, state, merged_into, placeholder, linked_at, updated_at
		FROM links WHERE profile_id = ? ORDER BY linked_at, ref_key`), p.ID)
	if err != nil {
		return x, fmt.Errorf("explaining %s: %w", p.ID, err)
	}
	for rows.Next() {
		var l store.Link
		var ph int
		var linked, up int64
		if err := rows.Scan(&l.Ref.Platform, &l.Ref.Account, &l.Ref.ObjectType, &l.Ref.ID, &l.State, &l.MergedInto, &ph, &linked, &up); err != nil {
			rows.Close()
			return x, fmt.Errorf("explaining %s: %w", p.ID, err)
		}
		l.Placeholder = ph != 0
		l.LinkedAt, l.UpdatedAt = fromTS(linked), fromTS(up)
		l.Ref.LastModified = l.UpdatedAt
		x.Links = append(x.Links, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return x, fmt.Errorf("explaining %s: %w", p.ID, err)
	}
	// Merges into this profile, and transitively into those.
	frontier := []string{p.ID}
	seen := map[string]bool{p.ID: true}
	for len(frontier) > 0 {
		var next []string
		err := inList(frontier, func(list string, args []any) error {
			rows, err := e.r.QueryContext(ctx, e.q(`SELECT from_id, into_id, at, reason, evidence FROM profile_merges WHERE into_id IN `+list+` ORDER BY id`), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var m store.Merge
				var at int64
				if err := rows.Scan(&m.From, &m.Into, &at, &m.Reason, &m.Evidence); err != nil {
					return err
				}
				m.At = fromTS(at)
				x.Merges = append(x.Merges, m)
				if !seen[m.From] {
					seen[m.From] = true
					next = append(next, m.From)
				}
			}
			return rows.Err()
		})
		if err != nil {
			return x, fmt.Errorf("explaining merges of %s: %w", p.ID, err)
		}
		frontier = next
	}
	slices.SortStableFunc(x.Merges, func(a, b store.Merge) int { return a.At.Compare(b.At) })
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	err = inList(ids, func(list string, args []any) error {
		rows, err := e.r.QueryContext(ctx, e.q(`SELECT at, profile_id, kind, ref_key, detail FROM identity_events WHERE profile_id IN `+list+` ORDER BY id`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var ev store.Event
			var at int64
			if err := rows.Scan(&at, &ev.ProfileID, &ev.Kind, &ev.RefKey, &ev.Detail); err != nil {
				return err
			}
			ev.At = fromTS(at)
			x.Events = append(x.Events, ev)
		}
		return rows.Err()
	})
	if err != nil {
		return x, fmt.Errorf("explaining events of %s: %w", p.ID, err)
	}
	return x, nil
}
