package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"

	"github.com/parquet-go/parquet-go"
)

// ProfileRow is one row of profiles.
type ProfileRow struct {
	ProfileID           string     `parquet:"profile_id"`
	Email               string     `parquet:"email"`
	FirstName           string     `parquet:"first_name"`
	LastName            string     `parquet:"last_name"`
	Company             string     `parquet:"company"`
	Industry            string     `parquet:"industry"`
	Employees           int64      `parquet:"employees"`
	City                string     `parquet:"city"`
	Country             string     `parquet:"country"`
	LifecycleStage      string     `parquet:"lifecycle_stage"`
	Segments            string     `parquet:"segments"`
	HoldoutSegments     string     `parquet:"holdout_segments"`
	Orders              int64      `parquet:"orders"`
	RevenueMinor        int64      `parquet:"revenue_minor"`
	Revenue             float64    `parquet:"revenue"`
	Currency            string     `parquet:"currency"`
	OtherCurrencyOrders int64      `parquet:"other_currency_orders"`
	FirstOrderAt        *time.Time `parquet:"first_order_at,optional,timestamp(millisecond)"`
	LastOrderAt         *time.Time `parquet:"last_order_at,optional,timestamp(millisecond)"`
	UpdatedAt           *time.Time `parquet:"updated_at,optional,timestamp(millisecond)"`
}

// OrderRow is one row of orders.
type OrderRow struct {
	OrderKey      string    `parquet:"order_key"`
	Platform      string    `parquet:"platform"`
	OrderID       string    `parquet:"order_id"`
	ProfileID     string    `parquet:"profile_id"`
	CreatedAt     time.Time `parquet:"created_at,timestamp(millisecond)"`
	Status        string    `parquet:"status"`
	Currency      string    `parquet:"currency"`
	TotalMinor    int64     `parquet:"total_minor"`
	RefundedMinor int64     `parquet:"refunded_minor"`
	NetMinor      int64     `parquet:"net_minor"`
	Net           float64   `parquet:"net"`
}

// MembershipRow is one row of memberships.
type MembershipRow struct {
	ProfileID string     `parquet:"profile_id"`
	Segment   string     `parquet:"segment"`
	Since     *time.Time `parquet:"since,optional,timestamp(millisecond)"`
	Holdout   bool       `parquet:"holdout"`
	Reason    string     `parquet:"reason"`
}

// HistoryRow is one row of membership_history.
type HistoryRow struct {
	Seq       int64     `parquet:"seq"`
	ProfileID string    `parquet:"profile_id"`
	Segment   string    `parquet:"segment"`
	Entered   bool      `parquet:"entered"`
	At        time.Time `parquet:"at,timestamp(millisecond)"`
	Holdout   bool      `parquet:"holdout"`
	Reason    string    `parquet:"reason"`
}

// row is a table row: its CSV header and cells.
type row interface {
	ProfileRow | OrderRow | MembershipRow | HistoryRow
}

func header(v any) []string {
	switch v.(type) {
	case ProfileRow:
		return []string{"profile_id", "email", "first_name", "last_name", "company", "industry", "employees", "city", "country",
			"lifecycle_stage", "segments", "holdout_segments", "orders", "revenue_minor", "revenue", "currency",
			"other_currency_orders", "first_order_at", "last_order_at", "updated_at"}
	case OrderRow:
		return []string{"order_key", "platform", "order_id", "profile_id", "created_at", "status", "currency",
			"total_minor", "refunded_minor", "net_minor", "net"}
	case MembershipRow:
		return []string{"profile_id", "segment", "since", "holdout", "reason"}
	case HistoryRow:
		return []string{"seq", "profile_id", "segment", "entered", "at", "holdout", "reason"}
	}
	panic("export: no header for this row type") // unreachable: row is a closed set
}

func cells(v any) []string {
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	b := strconv.FormatBool
	switch r := v.(type) {
	case ProfileRow:
		return []string{r.ProfileID, r.Email, r.FirstName, r.LastName, r.Company, r.Industry, i(r.Employees), r.City, r.Country,
			r.LifecycleStage, r.Segments, r.HoldoutSegments, i(r.Orders), i(r.RevenueMinor), f(r.Revenue), r.Currency,
			i(r.OtherCurrencyOrders), ts(r.FirstOrderAt), ts(r.LastOrderAt), ts(r.UpdatedAt)}
	case OrderRow:
		return []string{r.OrderKey, r.Platform, r.OrderID, r.ProfileID, ts(&r.CreatedAt), r.Status, r.Currency,
			i(r.TotalMinor), i(r.RefundedMinor), i(r.NetMinor), f(r.Net)}
	case MembershipRow:
		return []string{r.ProfileID, r.Segment, ts(r.Since), b(r.Holdout), r.Reason}
	case HistoryRow:
		return []string{i(r.Seq), r.ProfileID, r.Segment, b(r.Entered), ts(&r.At), b(r.Holdout), r.Reason}
	}
	panic("export: no cells for this row type")
}

func ts(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func writeCSV[T row](w io.Writer, rows []T) error {
	cw := csv.NewWriter(w)
	var zero T
	if err := cw.Write(header(zero)); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write(cells(r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeParquet[T row](w io.Writer, rows []T) error {
	pw := parquet.NewGenericWriter[T](w, parquet.Compression(&parquet.Snappy))
	if _, err := pw.Write(rows); err != nil {
		return err
	}
	return pw.Close()
}
