package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/internal/testenv"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// RunCDNOW loads the CDNOW purchase history (Fader & Hardie's CDNOW master
// file, 69,659 purchases by 23,570 customers) through ApplyPage in pages of 2,000
// orders whose customers are known only by id, then checks that every
// customer became one profile, that no purchase was lost and that the
// revenue adds up to the cent. Under the race detector it loads the first
// 6,000 lines only, in -short mode the first 1,000.
func RunCDNOW(t *testing.T, open Factory) {
	path := testenv.SharedFile(t, "data/cdnow/CDNOW_master.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	limit := 1 << 30
	if raceEnabled {
		limit = 6000
	}
	if testing.Short() {
		limit = 1000
	}
	var pages [][]adapter.Change
	var page []adapter.Change
	customers := map[string]bool{}
	var revenue int64
	lines := bufio.NewScanner(f)
	n := 0
	for lines.Scan() && n < limit {
		fields := strings.Fields(lines.Text())
		if len(fields) != 4 || fields[0] == "customer_id" {
			continue
		}
		n++
		day, err := time.Parse("20060102", fields[1])
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		qty, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		total, err := domain.ParseMoney(fields[3], "USD")
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		customers[fields[0]] = true
		revenue += total.Amount
		o := &domain.Order{
			Ref:         domain.ExternalRef{Platform: "cdnow", ObjectType: domain.ObjectOrder, ID: strconv.Itoa(n)},
			CustomerRef: domain.ExternalRef{Platform: "cdnow", ObjectType: domain.ObjectContact, ID: fields[0]},
			CreatedAt:   day, UpdatedAt: day, Status: domain.StatusCompleted, Currency: "USD", Total: total,
			Items: []domain.LineItem{{SKU: "cd", Category: "music", Quantity: qty}},
		}
		page = append(page, adapter.Change{Kind: adapter.ChangeUpsert, Order: o})
		if len(page) == 2000 {
			pages = append(pages, page)
			page = nil
		}
	}
	if len(page) > 0 {
		pages = append(pages, page)
	}
	ctx := context.Background()
	s := open(t, store.Options{})
	start := time.Now()
	for i, p := range pages {
		if _, err := s.ApplyPage(ctx, "cdnow", "", "order", p, nil, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("stored %d orders of %d customers in %v", n, len(customers), time.Since(start))
	profiles, orders := 0, 0
	var got int64
	err = s.EachProfile(ctx, func(po store.ProfileOrders) error {
		profiles++
		if len(po.Profile.Refs) != 1 {
			return fmt.Errorf("profile %s has refs %v", po.Profile.ID, po.Profile.Refs)
		}
		for _, o := range po.Orders {
			if o.CustomerRef.ID != po.Profile.Refs[0].ID {
				return fmt.Errorf("order %s of customer %s is on the profile of %s", o.Ref.ID, o.CustomerRef.ID, po.Profile.Refs[0].ID)
			}
			orders++
			got += o.Total.Amount
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if profiles != len(customers) || orders != n || got != revenue {
		t.Errorf("stored %d profiles, %d orders, revenue %s; want %d, %d, %s", profiles, orders,
			domain.Money{Amount: got, Currency: "USD"}, len(customers), n, domain.Money{Amount: revenue, Currency: "USD"})
	}
	res, err := s.ApplyPage(ctx, "cdnow", "", "order", pages[0], nil, "0")
	if err != nil || len(res.Touched) != 0 || res.Skipped != len(pages[0]) {
		t.Errorf("re-applying the first page: %+v, %v; want every order skipped", res, err)
	}
}
