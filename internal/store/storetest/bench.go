package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// BenchPageSize is the number of records per page in the benchmarks.
const BenchPageSize = 1000

// BenchmarkUpsertProfiles applies pages of new contacts (each becoming a
// new profile through identity resolution) and reports rows/s.
func BenchmarkUpsertProfiles(b *testing.B, open Factory) {
	ctx := context.Background()
	s := open(b, store.Options{})
	b.ResetTimer()
	rows := 0
	for i := 0; b.Loop(); i++ {
		chs := make([]adapter.Change, BenchPageSize)
		for j := range chs {
			id := fmt.Sprintf("%d-%d", i, j)
			c := contact("hubspot", id, "u"+id+"@example.com", "User", t0.Add(time.Duration(j)*time.Second))
			c.Contact.LastName = "Bench"
			c.Contact.Phones = []string{"+1 555 0100"}
			c.Contact.Address = domain.Address{City: "Leeds", Country: "GB"}
			c.Contact.Attributes = map[string]string{"plan": "pro"}
			chs[j] = c
		}
		if _, err := s.ApplyPage(ctx, "hubspot", "", "contact", chs, nil, fmt.Sprint(i)); err != nil {
			b.Fatal(err)
		}
		rows += len(chs)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkUpsertProfilesOneByOne writes the same contacts as
// BenchmarkUpsertProfiles, but one ApplyPage (one transaction, one
// identity resolution, one round of statements) per contact: the
// row-at-a-time design the bulk path is measured against.
func BenchmarkUpsertProfilesOneByOne(b *testing.B, open Factory) {
	ctx := context.Background()
	s := open(b, store.Options{})
	b.ResetTimer()
	rows := 0
	for i := 0; b.Loop(); i++ {
		for j := 0; j < BenchPageSize; j++ {
			id := fmt.Sprintf("%d-%d", i, j)
			c := contact("hubspot", id, "u"+id+"@example.com", "User", t0.Add(time.Duration(j)*time.Second))
			c.Contact.LastName = "Bench"
			c.Contact.Phones = []string{"+1 555 0100"}
			c.Contact.Address = domain.Address{City: "Leeds", Country: "GB"}
			c.Contact.Attributes = map[string]string{"plan": "pro"}
			if _, err := s.ApplyPage(ctx, "hubspot", "", "contact", []adapter.Change{c}, nil, id); err != nil {
				b.Fatal(err)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkUpsertOrders applies pages of new orders (two line items each)
// for existing customers and reports rows/s (orders, not counting items).
func BenchmarkUpsertOrders(b *testing.B, open Factory) {
	ctx := context.Background()
	s := open(b, store.Options{})
	const customers = 2000
	var chs []adapter.Change
	for j := 0; j < customers; j++ {
		id := fmt.Sprint(j)
		chs = append(chs, contact("woocommerce", id, "c"+id+"@example.com", "C", t0))
	}
	if _, err := s.ApplyPage(ctx, "woocommerce", "", "contact", chs, nil, "c"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	rows := 0
	for i := 0; b.Loop(); i++ {
		chs := make([]adapter.Change, BenchPageSize)
		for j := range chs {
			n := i*BenchPageSize + j
			o := order("woocommerce", fmt.Sprint(n), ref("woocommerce", domain.ObjectContact, fmt.Sprint(n%customers)), "", t0.Add(time.Duration(n)*time.Minute), int64(1000+n%5000))
			o.Order.Items = append(o.Order.Items, domain.LineItem{SKU: "GIFT", Quantity: 1, UnitPrice: domain.Money{Amount: 100, Currency: "EUR"}})
			chs[j] = o
		}
		if _, err := s.ApplyPage(ctx, "woocommerce", "", "order", chs, nil, fmt.Sprint(i)); err != nil {
			b.Fatal(err)
		}
		rows += len(chs)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkBaselineRowInserts is the yardstick the upsert benchmarks are
// quoted against: the same number of rows per op written one INSERT
// statement at a time in one transaction, into a three-column table, with
// no identity resolution. rebind adapts '?' placeholders to the driver.
func BenchmarkBaselineRowInserts(b *testing.B, db *sql.DB, rebind func(string) string) {
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_rows (id TEXT PRIMARY KEY, email TEXT NOT NULL, data TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	q := rebind(`INSERT INTO bench_rows (id, email, data) VALUES (?, ?, ?)`)
	data := `{"first_name":"User","last_name":"Bench","phones":["+1 555 0100"],"address":{"city":"Leeds","country":"GB"}}`
	b.ResetTimer()
	rows := 0
	for i := 0; b.Loop(); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < BenchPageSize; j++ {
			id := fmt.Sprintf("%d-%d", i, j)
			if _, err := tx.ExecContext(ctx, q, id, "u"+id+"@example.com", data); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		rows += BenchPageSize
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkEachProfile streams 10,000 profiles with two orders each, as a
// full recompute does, and reports profiles/s.
func BenchmarkEachProfile(b *testing.B, open Factory) {
	ctx := context.Background()
	s := open(b, store.Options{})
	const people = 10000
	for start := 0; start < people; start += BenchPageSize {
		var chs []adapter.Change
		for j := start; j < start+BenchPageSize; j++ {
			id := fmt.Sprint(j)
			chs = append(chs, contact("woocommerce", id, "e"+id+"@example.com", "E", t0))
			for k := 0; k < 2; k++ {
				chs = append(chs, order("woocommerce", fmt.Sprintf("%d-%d", j, k), ref("woocommerce", domain.ObjectContact, id), "", t0.Add(time.Duration(k)*time.Hour), 1000))
			}
		}
		if _, err := s.ApplyPage(ctx, "woocommerce", "", "contact", chs, nil, fmt.Sprint(start)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		err := s.EachProfile(ctx, func(po store.ProfileOrders) error {
			if len(po.Orders) != 2 {
				return fmt.Errorf("profile %s has %d orders", po.Profile.ID, len(po.Orders))
			}
			n++
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "profiles/s")
}

// BenchmarkOutboxClaim claims write-back rounds of 100 items from a queue
// of 1,000 and of 50,000 due items of one platform (after each claim the
// round is marked done and as many new items are queued, untimed, so the
// queue keeps its size). A claim's cost should not grow with the queue:
// a write-back of N records takes N/100 claims.
func BenchmarkOutboxClaim(b *testing.B, open Factory) {
	for _, queue := range []int{1000, 50_000} {
		b.Run(fmt.Sprintf("queue=%d", queue), func(b *testing.B) {
			ctx := context.Background()
			s := open(b, store.Options{})
			next := 0
			enqueue := func(n int) {
				items := make([]store.OutboxItem, n)
				for i := range items {
					items[i] = store.OutboxItem{Platform: "hubspot", Account: "1", Key: fmt.Sprintf("contact/%d", next), Payload: []byte(`{"item":{}}`)}
					next++
				}
				if err := s.OutboxEnqueue(ctx, items); err != nil {
					b.Fatal(err)
				}
			}
			for range queue / 1000 {
				enqueue(1000)
			}
			b.ResetTimer()
			for range b.N {
				claimed, err := s.OutboxClaim(ctx, "hubspot", "1", 100, time.Minute)
				if err != nil || len(claimed) != 100 {
					b.Fatalf("claimed %d items: %v", len(claimed), err)
				}
				b.StopTimer()
				ids := make([]int64, len(claimed))
				for i, it := range claimed {
					ids[i] = it.ID
				}
				if err := s.OutboxDone(ctx, ids); err != nil {
					b.Fatal(err)
				}
				enqueue(len(ids))
				b.StartTimer()
			}
		})
	}
}
