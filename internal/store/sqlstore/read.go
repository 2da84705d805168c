package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	fastjson "github.com/goccy/go-json"

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
		rows, err := x.QueryContext(ctx, e.q(`SELECT profile_id, platform, account, object_type, ext_id, updated_at FROM links
			WHERE state = 'active' AND object_type <> '`+guestObject+`' AND profile_id IN `+list+` ORDER BY profile_id, ref_key`), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var pid string
			var r domain.ExternalRef
			var up int64
			if err := rows.Scan(&pid, &r.Platform, &r.Account, &r.ObjectType, &r.ID, &up); err != nil {
				return err
			}
			r.LastModified = fromTS(up)
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

// EachProfile implements store.Store. It walks the profiles in id order
// 1000 at a time; each page costs four range scans (profiles, links,
// orders, line items) rather than per-profile lookups.
func (e *Engine) EachProfile(ctx context.Context, fn func(store.ProfileOrders) error) error {
	after := ""
	for {
		page, err := e.profilePage(ctx, after, 1000)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, po := range page {
			if err := fn(po); err != nil {
				return err
			}
		}
		after = page[len(page)-1].Profile.ID
	}
}

// profilePage reads up to limit profiles after the id given, with their
// refs and orders, using range scans over (after, last id].
//
// A full recompute decodes every stored profile and order document, so
// these are decoded with github.com/goccy/go-json, a drop-in for
// encoding/json's decoding rules that takes about half its CPU time; the
// documents are written by encoding/json.
func (e *Engine) profilePage(ctx context.Context, after string, limit int) ([]store.ProfileOrders, error) {
	page, err := e.readProfiles(ctx, `id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil || len(page) == 0 {
		return nil, err
	}
	last := page[len(page)-1].Profile.ID
	return page, e.fillPage(ctx, page, func(col string) (string, []any) {
		return col + ` > ? AND ` + col + ` <= ?`, []any{after, last}
	})
}

// readProfiles decodes the profiles a condition on their id selects.
func (e *Engine) readProfiles(ctx context.Context, where string, args ...any) ([]store.ProfileOrders, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT id, data FROM profiles WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("reading profiles: %w", err)
	}
	defer rows.Close()
	var page []store.ProfileOrders
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, fmt.Errorf("reading profiles: %w", err)
		}
		var po store.ProfileOrders
		if err := fastjson.Unmarshal(data, &po.Profile); err != nil {
			return nil, fmt.Errorf("decoding profile %s: %w", id, err)
		}
		page = append(page, po)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading profiles: %w", err)
	}
	return page, nil
}

// fillPage reads the refs and orders of a page of profiles, sorted by id;
// cond gives the SQL condition on a profile id column that selects the
// page's profiles, and its arguments.
func (e *Engine) fillPage(ctx context.Context, page []store.ProfileOrders, cond func(col string) (string, []any)) error {
	idx := make(map[string]int, len(page))
	for i := range page {
		idx[page[i].Profile.ID] = i
	}
	// Refs.
	where, args := cond("profile_id")
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT profile_id, platform, account, object_type, ext_id, updated_at FROM links
		WHERE `+where+` AND state = 'active' AND object_type <> '`+guestObject+`' ORDER BY profile_id, ref_key`), args...)
	if err != nil {
		return fmt.Errorf("reading profile links: %w", err)
	}
	for rows.Next() {
		var pid string
		var r domain.ExternalRef
		var up int64
		if err := rows.Scan(&pid, &r.Platform, &r.Account, &r.ObjectType, &r.ID, &up); err != nil {
			rows.Close()
			return fmt.Errorf("reading profile links: %w", err)
		}
		r.LastModified = fromTS(up)
		if i, ok := idx[pid]; ok {
			page[i].Profile.Refs = append(page[i].Profile.Refs, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading profile links: %w", err)
	}
	// Orders, then their items in the same order.
	rows, err = e.r.QueryContext(ctx, e.q(`SELECT `+orderColumns+` FROM orders
		WHERE `+where+` ORDER BY profile_id, created_at, ref_key`), args...)
	if err != nil {
		return fmt.Errorf("reading orders: %w", err)
	}
	type pos struct{ p, o int }
	at := map[string]pos{}
	for rows.Next() {
		var r orderRow
		if err := r.scan(rows); err != nil {
			rows.Close()
			return fmt.Errorf("reading orders: %w", err)
		}
		k := r.key
		i, ok := idx[r.pid]
		if !ok {
			continue
		}
		o, err := r.decode(fastjson.Unmarshal)
		if err != nil {
			rows.Close()
			return fmt.Errorf("decoding order %s: %w", k, err)
		}
		page[i].Orders = append(page[i].Orders, o)
		at[k] = pos{i, len(page[i].Orders) - 1}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading orders: %w", err)
	}
	if len(at) == 0 {
		return nil
	}
	// In the orders' own order, which their profile index gives, so only
	// orders placed at the same instant need sorting, not every item.
	where, args = cond("o.profile_id")
	rows, err = e.r.QueryContext(ctx, e.q(`SELECT oi.order_key, oi.sku, oi.name, oi.category, oi.quantity, oi.unit_price, oi.currency
		FROM orders o JOIN order_items oi ON oi.order_key = o.ref_key
		WHERE `+where+` ORDER BY o.profile_id, o.created_at, o.ref_key, oi.line_no`), args...)
	if err != nil {
		return fmt.Errorf("reading order items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var it domain.LineItem
		if err := rows.Scan(&k, &it.SKU, &it.Name, &it.Category, &it.Quantity, &it.UnitPrice.Amount, &it.UnitPrice.Currency); err != nil {
			return fmt.Errorf("reading order items: %w", err)
		}
		if w, ok := at[k]; ok {
			o := &page[w.p].Orders[w.o]
			o.Items = append(o.Items, it)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading order items: %w", err)
	}
	return nil
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
