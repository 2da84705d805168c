// Package export writes the store's data as files BI tools read as they
// are: profiles with their segments, orders, current memberships and the
// membership history, as CSV or Parquet, optionally only what changed
// since a date.
//
// # Schema
//
// The column names and types below are stable: a new column may be added
// at the end, none is renamed or removed. Money is exact: an integer in
// minor units (cents) beside its ISO 4217 currency, plus the same amount
// as a decimal number in major units for charts. Times are UTC: Parquet
// TIMESTAMP(MILLIS, UTC), RFC 3339 in CSV; an empty CSV cell or a Parquet
// null means unknown.
//
//   - profiles: profile_id, email, first_name, last_name, company, industry,
//     employees, city, country, lifecycle_stage, segments (names joined by
//     "|"), holdout_segments, orders, revenue_minor, revenue, currency,
//     other_currency_orders, first_order_at, last_order_at, updated_at
//   - orders: order_key, platform, order_id, profile_id, created_at,
//     status, currency, total_minor, refunded_minor, net_minor, net
//   - memberships: profile_id, segment, since, holdout, reason
//   - membership_history: seq, profile_id, segment, entered, at, holdout,
//     reason
//
// Revenue per profile counts purchases only (paid or completed), net of
// refunds, in the currency of most of the profile's orders; orders in
// other currencies are counted in other_currency_orders, never summed.
//
// Parquet is written with github.com/parquet-go/parquet-go, a maintained
// pure-Go implementation (no cgo, so the binary stays static) that maps
// Go structs to Parquet schemas with logical types.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Source is what an export reads.
type Source interface {
	EachProfile(ctx context.Context, fn func(store.ProfileOrders) error) error
	AllMemberships(ctx context.Context, fn func(domain.Membership) error) error
	MembershipHistorySince(ctx context.Context, after int64, limit int) ([]store.MembershipEvent, error)
}

// Formats.
const (
	CSV     = "csv"
	Parquet = "parquet"
)

// Tables, in the order they are written.
var tableNames = [...]string{"profiles", "orders", "memberships", "membership_history"}

// Tables returns the names of the tables an export can write.
func Tables() []string { return tableNames[:] }

// Options configure Export.
type Options struct {
	Dir    string // written to; created if missing
	Format string // CSV or Parquet
	// Since, when set, exports only profiles and orders updated at or
	// after it, and history recorded at or after it. Memberships are the
	// current state and always exported whole.
	Since time.Time
	// Tables limits the export; empty means all.
	Tables []string
	// Segment, when set, limits the export to one segment: its current
	// memberships (holdout included), the profiles and orders of those
	// people, and the segment's history.
	Segment string
}

// Result says what was written: a file and a row count per table.
type Result struct {
	Files map[string]string `json:"files"`
	Rows  map[string]int    `json:"rows"`
}

// Export writes the tables into opts.Dir, one file each
// (profiles.parquet, …). A file is written to a temporary name and
// renamed when complete, so a reader never sees half a file.
func Export(ctx context.Context, src Source, opts Options) (Result, error) {
	if opts.Format != CSV && opts.Format != Parquet {
		return Result{}, fmt.Errorf("export: format %q: want csv or parquet", opts.Format)
	}
	want := map[string]bool{}
	for _, t := range opts.Tables {
		if !slices.Contains(tableNames[:], t) {
			return Result{}, fmt.Errorf("export: unknown table %q; known: %s", t, strings.Join(tableNames[:], ", "))
		}
		want[t] = true
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return Result{}, fmt.Errorf("export: creating %s: %w", opts.Dir, err)
	}
	d, err := collect(ctx, src, opts.Since, opts.Segment)
	if err != nil {
		return Result{}, err
	}
	res := Result{Files: map[string]string{}, Rows: map[string]int{}}
	for _, t := range tableNames {
		if len(want) > 0 && !want[t] {
			continue
		}
		path := filepath.Join(opts.Dir, t+"."+opts.Format)
		var n int
		switch t {
		case "profiles":
			n, err = write(path, opts.Format, d.profiles)
		case "orders":
			n, err = write(path, opts.Format, d.orders)
		case "memberships":
			n, err = write(path, opts.Format, d.memberships)
		case "membership_history":
			n, err = write(path, opts.Format, d.history)
		}
		if err != nil {
			return res, fmt.Errorf("export: writing %s: %w", path, err)
		}
		res.Files[t], res.Rows[t] = path, n
	}
	return res, nil
}

type data struct {
	profiles    []ProfileRow
	orders      []OrderRow
	memberships []MembershipRow
	history     []HistoryRow
}

// WriteTable writes one table of an export (see Options for since and
// segment) to w in format and returns its rows. It is what the API
// streams for one segment; the files of Export hold the same bytes.
func WriteTable(ctx context.Context, src Source, w io.Writer, table, format string, since time.Time, segment string) (int, error) {
	if format != CSV && format != Parquet {
		return 0, fmt.Errorf("export: format %q: want csv or parquet", format)
	}
	if !slices.Contains(tableNames[:], table) {
		return 0, fmt.Errorf("export: unknown table %q; known: %s", table, strings.Join(tableNames[:], ", "))
	}
	d, err := collect(ctx, src, since, segment)
	if err != nil {
		return 0, err
	}
	switch table {
	case "profiles":
		return encode(w, format, d.profiles)
	case "orders":
		return encode(w, format, d.orders)
	case "memberships":
		return encode(w, format, d.memberships)
	}
	return encode(w, format, d.history)
}

func encode[T row](w io.Writer, format string, rows []T) (int, error) {
	var err error
	if format == CSV {
		err = writeCSV(w, rows)
	} else {
		err = writeParquet(w, rows)
	}
	if err != nil {
		return 0, fmt.Errorf("export: encoding %s: %w", format, err)
	}
	return len(rows), nil
}

func collect(ctx context.Context, src Source, since time.Time, segment string) (*data, error) {
	d := &data{}
	segs := map[string][]string{}
	holds := map[string][]string{}
	var in map[string]bool // the segment's people, when limited to one
	if segment != "" {
		in = map[string]bool{}
		err := src.AllMemberships(ctx, func(m domain.Membership) error {
			if m.Segment == segment {
				in[m.ProfileID] = true
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("export: reading memberships: %w", err)
		}
	}
	err := src.AllMemberships(ctx, func(m domain.Membership) error {
		if in != nil && !in[m.ProfileID] {
			return nil
		}
		if segment != "" && m.Segment != segment {
			// The person's other segments still show on their profile row.
			if m.Control {
				holds[m.ProfileID] = append(holds[m.ProfileID], m.Segment)
			} else {
				segs[m.ProfileID] = append(segs[m.ProfileID], m.Segment)
			}
			return nil
		}
		d.memberships = append(d.memberships, MembershipRow{ProfileID: m.ProfileID, Segment: m.Segment,
			Since: timePtr(m.Since), Holdout: m.Control, Reason: m.Reason})
		if m.Control {
			holds[m.ProfileID] = append(holds[m.ProfileID], m.Segment)
		} else {
			segs[m.ProfileID] = append(segs[m.ProfileID], m.Segment)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: reading memberships: %w", err)
	}
	err = src.EachProfile(ctx, func(po store.ProfileOrders) error {
		p := po.Profile
		if in != nil && !in[p.ID] {
			return nil
		}
		changed := since.IsZero() || !p.UpdatedAt.Before(since)
		for _, o := range po.Orders {
			if since.IsZero() || !o.CreatedAt.Before(since) || !o.UpdatedAt.Before(since) {
				d.orders = append(d.orders, orderRow(p.ID, o))
				changed = true
			}
		}
		if changed {
			d.profiles = append(d.profiles, profileRow(p, po.Orders, segs[p.ID], holds[p.ID]))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("export: reading profiles: %w", err)
	}
	for after := int64(0); ; {
		page, err := src.MembershipHistorySince(ctx, after, 5000)
		if err != nil {
			return nil, fmt.Errorf("export: reading membership history: %w", err)
		}
		for _, e := range page {
			after = e.Seq
			if !since.IsZero() && e.At.Before(since) || segment != "" && e.Segment != segment {
				continue
			}
			d.history = append(d.history, HistoryRow{Seq: e.Seq, ProfileID: e.ProfileID, Segment: e.Segment,
				Entered: e.Entered, At: e.At.UTC(), Holdout: e.Control, Reason: e.Reason})
		}
		if len(page) < 5000 {
			break
		}
	}
	return d, ctx.Err()
}

func profileRow(p domain.Profile, orders []domain.Order, segs, holds []string) ProfileRow {
	r := ProfileRow{ProfileID: p.ID, Email: p.PrimaryEmail(), FirstName: p.FirstName, LastName: p.LastName,
		City: p.Address.City, Country: p.Address.Country, LifecycleStage: p.LifecycleStage,
		Segments: strings.Join(sorted(segs), "|"), HoldoutSegments: strings.Join(sorted(holds), "|"),
		UpdatedAt: timePtr(p.UpdatedAt)}
	if p.Company != nil {
		r.Company, r.Industry, r.Employees = p.Company.Name, p.Company.Industry, p.Company.Employees
	}
	count := map[string]int{}
	for _, o := range orders {
		if o.Status.IsPurchase() {
			count[o.Net().Currency]++
		}
	}
	for c, n := range count {
		if n > count[r.Currency] || (n == count[r.Currency] && c < r.Currency) {
			r.Currency = c
		}
	}
	var first, last time.Time
	for _, o := range orders {
		if !o.Status.IsPurchase() {
			continue
		}
		n := o.Net()
		if n.Currency != r.Currency {
			r.OtherCurrencyOrders++
			continue
		}
		r.Orders++
		r.RevenueMinor += n.Amount
		if first.IsZero() || o.CreatedAt.Before(first) {
			first = o.CreatedAt
		}
		if o.CreatedAt.After(last) {
			last = o.CreatedAt
		}
	}
	r.Revenue = domain.Money{Amount: r.RevenueMinor, Currency: r.Currency}.Float()
	r.FirstOrderAt, r.LastOrderAt = timePtr(first), timePtr(last)
	return r
}

func orderRow(profileID string, o domain.Order) OrderRow {
	net := o.Net()
	return OrderRow{OrderKey: o.Ref.Key(), Platform: string(o.Ref.Platform), OrderID: o.Ref.ID, ProfileID: profileID,
		CreatedAt: o.CreatedAt.UTC(), Status: string(o.Status), Currency: o.Total.Currency,
		TotalMinor: o.Total.Amount, RefundedMinor: o.Refunded.Amount, NetMinor: net.Amount, Net: net.Float()}
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// write writes rows to path in format through a temporary file.
func write[T row](path, format string, rows []T) (n int, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if format == CSV {
		err = writeCSV(tmp, rows)
	} else {
		err = writeParquet(tmp, rows)
	}
	if err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, errors.Join(err, os.Remove(tmp.Name()))
	}
	return len(rows), nil
}
