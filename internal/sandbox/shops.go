package sandbox

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// MaxShops is the most WooCommerce shops a sandbox serves.
const MaxShops = 4

// BothShopsShare is the share of a business's shop customers who have an
// account (or guest orders) in two shops when the sandbox runs several.
const BothShopsShare = 0.25

// Shop is a WooCommerce shop of the business beyond the first: its
// records (ids are the shop's own, so customer 7 of one shop is not
// customer 7 of another) and its orders' raw details.
type Shop struct {
	Records
	OrderDetails map[string]WooDetails `json:"order_details"`
}

// ShopName is the instance name of the i-th WooCommerce shop (from 0):
// woocommerce for the first, as in a one-shop sandbox, then
// woocommerce-2, woocommerce-3, …
func ShopName(i int) string {
	if i == 0 {
		return WooCommerce
	}
	return WooCommerce + "-" + strconv.Itoa(i+1)
}

// Platform returns one platform's records, or a shop's by its
// instance name (ShopName).
func (d *Dataset) Platform(name string) *Records {
	switch name {
	case HubSpot:
		return &d.HubSpot
	case Salesforce:
		return &d.Salesforce
	case WooCommerce:
		return &d.WooCommerce
	}
	for i := range d.MoreShops {
		if name == ShopName(i+1) {
			return &d.MoreShops[i].Records
		}
	}
	return nil
}

// splitShops spreads the WooCommerce customers over n shops: each person
// who buys on the web has a home shop, and BothShopsShare of them also
// shop in a second one, with the same email. A person's account is in
// each of their shops, and their orders alternate between them, so their
// history as a whole is what the generator made. The first shop keeps
// its records (those of people who do not shop there leave it); the
// others get their own ids. The split is drawn from the dataset's seed.
func (d *Dataset) splitShops(n int) error {
	if n < 1 || n > MaxShops {
		return fmt.Errorf("shops: want 1 to %d, got %d", MaxShops, n)
	}
	if n == 1 {
		return nil
	}
	rng := rand.New(rand.NewPCG(d.Seed, 0x5409))
	byEmail := map[string]*Person{}
	for i := range d.People {
		p := &d.People[i]
		if !p.InWooCommerce {
			continue
		}
		byEmail[p.Email] = p
		home := rng.IntN(n)
		p.Shops = []int{home}
		if rng.Float64() < BothShopsShare {
			other := (home + 1 + rng.IntN(n-1)) % n
			p.Shops = append(p.Shops, other)
			slices.Sort(p.Shops)
		}
	}
	d.MoreShops = make([]Shop, n-1)
	for i := range d.MoreShops {
		d.MoreShops[i].OrderDetails = map[string]WooDetails{}
	}
	custID := make([]map[string]string, n) // shop → email → customer id
	for i := range custID {
		custID[i] = map[string]string{}
	}
	first := Records{Companies: d.WooCommerce.Companies}
	for _, c := range d.WooCommerce.Contacts {
		per := byEmail[domain.NormalizeEmail(c.Emails[0])]
		if per == nil {
			first.Contacts = append(first.Contacts, c)
			continue
		}
		for _, s := range per.Shops {
			if s == 0 {
				first.Contacts = append(first.Contacts, c)
				custID[0][per.Email] = c.Ref.ID
				continue
			}
			sh := &d.MoreShops[s-1]
			c2 := c
			c2.Ref.Platform = ShopName(s)
			c2.Ref.ID = strconv.Itoa(wooCustomerBase + len(sh.Contacts))
			sh.Contacts = append(sh.Contacts, c2)
			custID[s][per.Email] = c2.Ref.ID
		}
	}
	seen := map[string]int{} // email → orders placed so far
	for _, o := range d.WooCommerce.Orders {
		email := domain.NormalizeEmail(o.BillingEmail)
		per := byEmail[email]
		if per == nil {
			first.Orders = append(first.Orders, o)
			continue
		}
		s := per.Shops[seen[email]%len(per.Shops)]
		seen[email]++
		if s == 0 {
			first.Orders = append(first.Orders, o)
			continue
		}
		sh := &d.MoreShops[s-1]
		det := d.WooOrderDetails[o.Ref.ID]
		delete(d.WooOrderDetails, o.Ref.ID)
		o.Ref.Platform = ShopName(s)
		o.Ref.ID = strconv.Itoa(wooOrderBase + len(sh.Orders))
		if !o.CustomerRef.IsZero() {
			o.CustomerRef.Platform = ShopName(s)
			o.CustomerRef.ID = custID[s][per.Email]
		}
		sh.Orders = append(sh.Orders, o)
		sh.OrderDetails[o.Ref.ID] = det
	}
	d.WooCommerce = first
	return nil
}
