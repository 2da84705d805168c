package segment

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// randomCustomers makes profiles and orders that use every field the
// conversion reads, in random combinations, with more categories and
// devices than there are codes.
func randomCustomers(n int) []sampleCustomer {
	r := rand.New(rand.NewPCG(7, 11))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]sampleCustomer, n)
	for i := range out {
		p := domain.Profile{ID: fmt.Sprintf("p%05d", i), Emails: []string{pick("", "A@x.com", fmt.Sprintf("u%d@Y.org", i))},
			Gender: pick("", "m", "F"), BirthDate: pick("", "1990-02-03", "bad"), LifecycleStage: pick("", "Lead", "customer"),
			Address: domain.Address{Country: pick("", "us", "DE"), Region: pick("", "CA"), City: pick("", "Paris")}}
		if r.IntN(3) == 0 {
			p.Company = &domain.Company{Industry: pick("", "Tech"), Employees: r.Int64N(500), Country: pick("", "nl"),
				AnnualRevenue: domain.Money{Amount: r.Int64N(1e9), Currency: "USD"}}
		}
		if r.IntN(2) == 0 {
			p.CreatedAt = base.Add(time.Duration(r.Int64N(1e6)) * time.Second)
		}
		if r.IntN(3) == 0 {
			p.Attributes = map[string]string{"k" + pick("1", "2"): pick("v", "")}
		}
		for k := r.IntN(3); k > 0; k-- {
			p.Refs = append(p.Refs, domain.ExternalRef{Platform: pick("hubspot", "salesforce", "woocommerce"), ObjectType: "contact", ID: fmt.Sprint(k)})
		}
		var orders []domain.Order
		for k := r.IntN(6); k > 0; k-- {
			o := domain.Order{Ref: domain.ExternalRef{Platform: "woocommerce", ObjectType: "order", ID: fmt.Sprint(i*10 + k)},
				Status:    []domain.OrderStatus{domain.StatusCompleted, domain.StatusProcessing, domain.StatusRefunded, domain.StatusCancelled, domain.StatusOpen, domain.StatusLost}[r.IntN(6)],
				CreatedAt: base.AddDate(0, 0, -r.IntN(2000)).Add(time.Duration(r.IntN(86400)) * time.Second),
				Total:     domain.Money{Amount: r.Int64N(100000) - 100, Currency: pick("USD", "usd", "", "EUR")},
				Device:    pick("", "Mobile", "desktop", fmt.Sprintf("d%d", r.IntN(12))), Channel: pick("", "web", "POS")}
			if o.Total.Currency == "" {
				o.Currency = pick("", "USD", "GBP")
			}
			if r.IntN(4) == 0 {
				o.Refunded = domain.Money{Amount: r.Int64N(5000), Currency: "USD"}
			}
			for l := r.IntN(4); l > 0; l-- {
				o.Items = append(o.Items, domain.LineItem{Category: pick("", fmt.Sprintf("c%d", r.IntN(80))), Quantity: r.Int64N(5)})
			}
			orders = append(orders, o)
		}
		out[i] = sampleCustomer{p: p, orders: orders}
	}
	return out
}

// normal makes an empty custom map nil, the one thing decoding cannot
// tell apart (and nothing reads differently).
func normal(c Customer) Customer {
	if c.Attrs != nil && len(c.Attrs.Custom) == 0 {
		a := *c.Attrs
		a.Custom = nil
		c.Attrs = &a
	}
	return c
}

// A customer decoded from its encoding, by a builder that meets the
// customers in the same order, is the customer conversion gives, with the
// same codes, dictionaries and problems.
func TestDecodedCustomersAreConvertedCustomers(t *testing.T) {
	in := randomCustomers(3000)
	plain, enc, dec := NewBuilder("USD"), NewBuilder("USD"), NewBuilder("USD")
	var buf []byte
	for i, s := range in {
		want := plain.Customer(&s.p, s.orders)
		var got Customer
		got, buf = enc.AppendCustomer(buf[:0], &s.p, s.orders)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("customer %d: AppendCustomer converted\n%+v\nwant\n%+v", i, got, want)
		}
		back, rest, err := dec.DecodeCustomer(s.p.ID, buf)
		if err != nil {
			t.Fatalf("customer %d: %v", i, err)
		}
		if len(rest) != 0 {
			t.Fatalf("customer %d: %d bytes left after decoding", i, len(rest))
		}
		if !reflect.DeepEqual(normal(back), normal(want)) {
			t.Fatalf("customer %d: decoded\n%+v\nwant\n%+v", i, back, want)
		}
	}
	pd, dd := plain.Dataset(), dec.Dataset()
	if !reflect.DeepEqual(pd.Categories, dd.Categories) || !reflect.DeepEqual(pd.Devices, dd.Devices) || !reflect.DeepEqual(pd.Channels, dd.Channels) {
		t.Errorf("dictionaries differ:\n%v %v %v\n%v %v %v", pd.Categories, pd.Devices, pd.Channels, dd.Categories, dd.Devices, dd.Channels)
	}
	if len(pd.Problems) == 0 || !reflect.DeepEqual(pd.Problems, dd.Problems) {
		t.Errorf("problems differ:\n%q\n%q", pd.Problems, dd.Problems)
	}
}

// Every cut of an encoding, and garbage, is an error naming the
// customer, never a panic or a customer.
func TestTruncatedEncodingIsAnError(t *testing.T) {
	s := inputSample()[0]
	_, buf := NewBuilder("USD").AppendCustomer(nil, &s.p, s.orders)
	for n := range len(buf) {
		if _, _, err := NewBuilder("USD").DecodeCustomer("a", buf[:n]); err == nil {
			t.Fatalf("the first %d of %d bytes decoded without an error", n, len(buf))
		}
	}
	if _, _, err := NewBuilder("USD").DecodeCustomer("zz", []byte{0xff, 0xff, 0xff}); err == nil || !strings.Contains(err.Error(), "zz") {
		t.Errorf("garbage: %v, want an error naming the customer", err)
	}
}

func TestCivilIsTheCalendar(t *testing.T) {
	for d := int32(-800000); d < 800000; d += 17 {
		tm := dayTime(d)
		y, m := civil(d)
		if y != tm.Year() || m != int(tm.Month()) {
			t.Fatalf("day %d: civil gives %d-%d, want %d-%d", d, y, m, tm.Year(), tm.Month())
		}
	}
}

func TestInputVersionFollowsTheCurrency(t *testing.T) {
	if InputVersion("USD") != InputVersion("usd") {
		t.Error("the version depends on the spelling of the currency")
	}
	if InputVersion("USD") == InputVersion("EUR") {
		t.Error("customers converted for USD would be read as EUR ones")
	}
}
