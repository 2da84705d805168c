package export

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/store/sqlite"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// fill makes a store with n customers, 1–3 orders each (one refunded in
// part, every seventh in another currency), and two segments.
func fill(t *testing.T, n int) (*sqlite.Store, time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "connector.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	t0 := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	var changes []adapter.Change
	for i := range n {
		ref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectContact, ID: fmt.Sprint(i + 1), LastModified: t0}
		changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref, Contact: &domain.Contact{Ref: ref,
			Emails: []string{fmt.Sprintf("c%d@shop.example", i)}, FirstName: "Ann", LastName: fmt.Sprint("Buyer", i),
			Address: domain.Address{City: "Lyon", Country: "FR"}}})
		for k := range 1 + i%3 {
			cur := "EUR"
			if i%7 == 0 && k == 1 {
				cur = "USD"
			}
			oref := domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectOrder, ID: fmt.Sprintf("%d-%d", i, k), LastModified: t0}
			o := &domain.Order{Ref: oref, CustomerRef: ref, CreatedAt: t0.AddDate(0, 0, i%60+k), Status: domain.StatusCompleted,
				Currency: cur, Total: domain.Money{Amount: int64(1000 + 37*i + k), Currency: cur}}
			if k == 2 {
				o.Refunded = domain.Money{Amount: 250, Currency: cur}
			}
			changes = append(changes, adapter.Change{Kind: adapter.ChangeUpsert, Ref: oref, Order: o})
		}
	}
	if _, err := st.ApplyPage(ctx, "woocommerce", "", "all", changes, nil, "c"); err != nil {
		t.Fatal(err)
	}
	var mc []store.MembershipChange
	for i := range n {
		p, err := st.ProfileByEmail(ctx, fmt.Sprintf("c%d@shop.example", i))
		if err != nil {
			t.Fatal(err)
		}
		mc = append(mc, store.MembershipChange{ProfileID: p.ID, Segment: "Champions", Entered: true, At: t0, Control: i%10 == 0})
		if i%2 == 0 {
			mc = append(mc, store.MembershipChange{ProfileID: p.ID, Segment: "Loyal", Entered: true, At: t0.AddDate(0, 1, 0)})
		}
	}
	if err := st.ApplyMemberships(ctx, mc); err != nil {
		t.Fatal(err)
	}
	return st, t0
}

// counts reads what the store holds, independently of the export.
func counts(t *testing.T, st *sqlite.Store) (profiles, orders, memberships, history int, net int64) {
	ctx := context.Background()
	if err := st.EachProfile(ctx, func(po store.ProfileOrders) error {
		profiles++
		orders += len(po.Orders)
		for _, o := range po.Orders {
			net += o.Net().Amount
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.AllMemberships(ctx, func(domain.Membership) error { memberships++; return nil }); err != nil {
		t.Fatal(err)
	}
	ev, err := st.MembershipHistorySince(ctx, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return profiles, orders, memberships, len(ev), net
}

func TestCSVRowCountsEqualTheStore(t *testing.T) {
	st, _ := fill(t, 120)
	dir := t.TempDir()
	res, err := Export(context.Background(), st, Options{Dir: dir, Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	p, o, m, h, _ := counts(t, st)
	want := map[string]int{"profiles": p, "orders": o, "memberships": m, "membership_history": h}
	for table, n := range want {
		f, err := os.Open(res.Files[table])
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		if len(recs)-1 != n || res.Rows[table] != n {
			t.Errorf("%s: %d rows in the file, %d reported, %d in the store", table, len(recs)-1, res.Rows[table], n)
		}
	}
	if p != 120 || m != 180 {
		t.Fatalf("store: %d profiles, %d memberships", p, m)
	}
}

// TestParquetReadBackByAnIndependentReader reads the Parquet files with
// Apache Arrow's Parquet implementation, which shares no code with the
// writer, and compares counts, sums and types with the store.
func TestParquetReadBackByAnIndependentReader(t *testing.T) {
	st, t0 := fill(t, 150)
	dir := t.TempDir()
	res, err := Export(context.Background(), st, Options{Dir: dir, Format: Parquet})
	if err != nil {
		t.Fatal(err)
	}
	p, o, m, h, net := counts(t, st)
	read := func(table string) arrow.Table {
		f, err := os.Open(res.Files[table])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		tbl, err := pqarrow.ReadTable(context.Background(), f, parquet.NewReaderProperties(memory.DefaultAllocator),
			pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatalf("%s: arrow cannot read it: %v", table, err)
		}
		t.Cleanup(tbl.Release)
		return tbl
	}
	for table, n := range map[string]int{"profiles": p, "orders": o, "memberships": m, "membership_history": h} {
		if got := read(table).NumRows(); int(got) != n {
			t.Errorf("%s: arrow reads %d rows, the store has %d", table, got, n)
		}
	}
	orders := read("orders")
	col := func(tbl arrow.Table, name string) *arrow.Column {
		idx := tbl.Schema().FieldIndices(name)
		if len(idx) != 1 {
			t.Fatalf("no column %s in %s", name, tbl.Schema())
		}
		return tbl.Column(idx[0])
	}
	var sum int64
	for _, chunk := range col(orders, "net_minor").Data().Chunks() {
		for _, v := range chunk.(*array.Int64).Int64Values() {
			sum += v
		}
	}
	if sum != net {
		t.Errorf("net_minor sums to %d, the store's orders to %d", sum, net)
	}
	ct := col(orders, "created_at")
	ts, ok := ct.DataType().(*arrow.TimestampType)
	if !ok || ts.Unit != arrow.Millisecond || ts.TimeZone != "UTC" {
		t.Fatalf("created_at is %s, want timestamp[ms, tz=UTC]", ct.DataType())
	}
	first := ct.Data().Chunk(0).(*array.Timestamp).Value(0).ToTime(arrow.Millisecond)
	if first.Before(t0) || first.After(t0.AddDate(0, 0, 70)) {
		t.Errorf("first created_at %s is not near %s", first, t0)
	}
	profiles := read("profiles")
	if got := col(profiles, "first_order_at").NullN(); got != 0 {
		t.Errorf("%d buyers without a first order time", got)
	}
	emails := col(profiles, "email").Data().Chunk(0).(*array.String)
	if emails.Value(0) == "" {
		t.Error("empty email in the first profile")
	}
}

func TestIncrementalExportTakesOnlyWhatChanged(t *testing.T) {
	st, t0 := fill(t, 60)
	res, err := Export(context.Background(), st, Options{Dir: t.TempDir(), Format: CSV, Since: t0.AddDate(0, 0, 30)})
	if err != nil {
		t.Fatal(err)
	}
	_, all, _, _, _ := counts(t, st)
	if res.Rows["orders"] == 0 || res.Rows["orders"] >= all {
		t.Errorf("incremental export has %d of %d orders", res.Rows["orders"], all)
	}
	if res.Rows["membership_history"] != 30 { // only the Loyal entries are a month later
		t.Errorf("history since: %d rows, want 30", res.Rows["membership_history"])
	}
	if _, err := Export(context.Background(), st, Options{Dir: t.TempDir(), Format: "xlsx"}); err == nil {
		t.Error("an unknown format was accepted")
	}
	if _, err := Export(context.Background(), st, Options{Dir: t.TempDir(), Format: CSV, Tables: []string{"people"}}); err == nil {
		t.Error("an unknown table was accepted")
	}
}
