package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

var (
	hsLeadStages     = []string{"subscriber", "lead", "marketingqualifiedlead"}
	hsProspectStages = []string{"salesqualifiedlead", "opportunity"}
	hsOpenDealStages = []string{"appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent"}
	sfOpenStages     = []string{"Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review"}
	sfLeadStatuses   = []string{"Open - Not Contacted", "Working - Contacted"}
	sourceTypes      = []string{"organic", "utm", "referral", "typein", "admin"}
)

func ref(platform, typ, id string, mod time.Time) domain.ExternalRef {
	return domain.ExternalRef{Platform: platform, ObjectType: typ, ID: id, LastModified: mod}
}

// nationalPhone renders an E.164 number the way shop customers type it.
func nationalPhone(e164 string, country string) string {
	for _, c := range countries {
		if c.code == country && strings.HasPrefix(e164, c.phone) {
			rest := e164[len(c.phone):]
			if c.phone == "+1" {
				return fmt.Sprintf("(%s) %s-%s", rest[:3], rest[3:6], rest[6:])
			}
			return "0" + rest[:3] + " " + rest[3:]
		}
	}
	return e164
}

// place writes a person, their orders and their deals into the platforms
// they are present on.
func (g *gen) place(per *Person, orders []domain.Order) {
	asOf := g.opts.AsOf
	ds := g.ds
	created := per.AcquiredAt.Add(-time.Duration(g.rng.IntN(3600)) * time.Second)
	lastActive := created
	if n := len(orders); n > 0 {
		lastActive = orders[n-1].UpdatedAt
	}

	// WooCommerce: an account (unless a guest) and every web order.
	if per.InWooCommerce {
		var custRef domain.ExternalRef
		if !per.WooGuest {
			g.wooCust++
			id := strconv.Itoa(wooCustomerBase + g.wooCust - 1)
			custRef = ref(WooCommerce, domain.ObjectContact, id, time.Time{})
			c := domain.Contact{
				Ref:       custRef,
				Emails:    []string{caseVariant(per.Email, g.styleOf(0.85, 0.15))},
				Phones:    []string{nationalPhone(per.Phone, per.Address.Country)},
				FirstName: per.FirstName, LastName: per.LastName, Address: per.Address,
				Attributes: map[string]string{
					"interest": per.Attributes["interest"], "newsletter": per.Attributes["newsletter"],
				},
				CreatedAt: created, UpdatedAt: lastActive,
			}
			if per.Company >= 0 {
				c.Company = &domain.Company{Name: ds.Companies[per.Company].Name, Country: per.Address.Country}
			}
			c.Ref.LastModified = lastActive
			ds.WooCommerce.Contacts = append(ds.WooCommerce.Contacts, c)
		}
		for _, o := range orders {
			g.wooOrder++
			id := strconv.Itoa(wooOrderBase + g.wooOrder - 1)
			o.Ref = ref(WooCommerce, domain.ObjectOrder, id, o.UpdatedAt)
			o.CustomerRef = custRef
			if per.WooGuest {
				o.BillingEmail = caseVariant(per.Email, g.styleOf(0.7, 0.2))
				if g.chance(0.05) {
					o.BillingEmail = " " + o.BillingEmail + " "
				}
			} else {
				o.BillingEmail = caseVariant(per.Email, g.styleOf(0.85, 0.1))
			}
			src := pick(g, sourceTypes[:4])
			if o.Channel == "admin" {
				src = "admin"
			}
			ds.WooOrderDetails[id] = WooDetails{UserAgent: pick(g, userAgents[o.Device]), SourceType: src}
			ds.WooCommerce.Orders = append(ds.WooCommerce.Orders, o)
		}
	}

	// Deals live in one CRM: Salesforce when the person is there.
	dealsIn := ""
	switch {
	case per.InSalesforce:
		dealsIn = Salesforce
	case per.InHubSpot:
		dealsIn = HubSpot
	}
	var deals []domain.Order
	switch {
	case per.Kind == KindProspect:
		if g.chance(0.3) {
			at := g.at(per.AcquiredAt.AddDate(0, -6, 0), per.AcquiredAt)
			deals = append(deals, domain.Order{CreatedAt: at, UpdatedAt: at.Add(72 * time.Hour), Status: domain.StatusLost,
				Total: g.money(int64(g.gamma(3, 1.0/800) * 100))})
		}
		deals = append(deals, domain.Order{CreatedAt: per.AcquiredAt, UpdatedAt: g.at(per.AcquiredAt, asOf), Status: domain.StatusOpen,
			Total: g.money(int64(g.gamma(3, 1.0/1000) * 100))})
	case per.Kind == KindBuyer && per.Company >= 0 && g.chance(0.3):
		end := asOf
		if per.Churned() {
			end = per.ChurnedAt
		}
		for range 1 + g.rng.IntN(3) {
			at := g.at(per.AcquiredAt, end)
			deals = append(deals, domain.Order{CreatedAt: at, UpdatedAt: at.Add(24 * time.Hour), Status: domain.StatusCompleted,
				Total: g.money(int64(g.gamma(4, 1.0/600) * 100))})
		}
	}
	for i := range deals {
		deals[i].Total.Amount = deals[i].Total.Amount / 100 * 100 // deals are round amounts
		deals[i].Currency = ds.Currency
		deals[i].Channel = "crm"
		if deals[i].UpdatedAt.After(asOf) {
			deals[i].UpdatedAt = asOf
		}
	}

	if per.InHubSpot {
		g.hsContact++
		id := strconv.Itoa(hsContactBase + g.hsContact - 1)
		stage := "customer"
		switch per.Kind {
		case KindLead:
			stage = pick(g, hsLeadStages)
		case KindProspect:
			stage = pick(g, hsProspectStages)
		}
		c := domain.Contact{
			Ref:       ref(HubSpot, domain.ObjectContact, id, lastActive),
			Emails:    []string{per.Email}, // HubSpot stores addresses lower-cased
			Phones:    []string{per.Phone},
			FirstName: per.FirstName, LastName: per.LastName, Gender: per.Gender, BirthDate: per.BirthDate,
			Address: per.Address, LifecycleStage: stage,
			Attributes: map[string]string{"interest": per.Attributes["interest"], "acquisition_source": per.Attributes["acquisition_source"]},
			CreatedAt:  created, UpdatedAt: lastActive,
		}
		if per.Attributes["newsletter"] == "false" {
			c.Consent.Email = domain.ConsentDenied
		} else {
			c.Consent.Email = domain.ConsentGranted
		}
		if per.Company >= 0 {
			c.CompanyRef = g.hsCompany(per.Company)
		}
		ds.HubSpot.Contacts = append(ds.HubSpot.Contacts, c)
		if dealsIn == HubSpot {
			for _, d := range deals {
				g.hsDeal++
				did := strconv.Itoa(hsDealBase + g.hsDeal - 1)
				d.Ref = ref(HubSpot, domain.ObjectDeal, did, d.UpdatedAt)
				d.CustomerRef = c.Ref
				d.CustomerRef.LastModified = time.Time{}
				switch d.Status {
				case domain.StatusCompleted:
					d.RawStatus = "closedwon"
				case domain.StatusLost:
					d.RawStatus = "closedlost"
				default:
					d.RawStatus = pick(g, hsOpenDealStages)
				}
				ds.HubSpot.Orders = append(ds.HubSpot.Orders, d)
			}
		}
	}

	if per.InSalesforce {
		email := caseVariant(per.Email, g.styleOf(0.4, 0.5))
		c := domain.Contact{
			Emails:    []string{email},
			Phones:    []string{per.Phone},
			FirstName: per.FirstName, LastName: per.LastName, BirthDate: per.BirthDate, Address: per.Address,
			Attributes: map[string]string{"lead_source": pick(g, leadSources)},
			CreatedAt:  created, UpdatedAt: lastActive,
		}
		if per.Kind == KindLead {
			g.sfLead++
			c.Ref = ref(Salesforce, "lead", sfID("00Q", g.sfLead), lastActive)
			c.LifecycleStage = "lead"
			c.Attributes["lead_status"] = pick(g, sfLeadStatuses)
			if per.Company >= 0 {
				co := ds.Companies[per.Company]
				c.Company = &domain.Company{Name: co.Name, Industry: co.Industry}
			}
		} else {
			g.sfContact++
			c.Ref = ref(Salesforce, domain.ObjectContact, sfID("003", g.sfContact), lastActive)
			c.LifecycleStage = "contact"
			if per.Company >= 0 {
				c.CompanyRef = g.sfAccount(per.Company)
			}
		}
		ds.Salesforce.Contacts = append(ds.Salesforce.Contacts, c)
		if dealsIn == Salesforce {
			for _, d := range deals {
				g.sfOpp++
				d.Ref = ref(Salesforce, "opportunity", sfID("006", g.sfOpp), d.UpdatedAt)
				d.CustomerRef = c.Ref
				d.CustomerRef.LastModified = time.Time{}
				switch d.Status {
				case domain.StatusCompleted:
					d.RawStatus = "Closed Won"
				case domain.StatusLost:
					d.RawStatus = "Closed Lost"
				default:
					d.RawStatus = pick(g, sfOpenStages)
				}
				ds.Salesforce.Orders = append(ds.Salesforce.Orders, d)
			}
		}
	}
}

// hsCompany returns the HubSpot company for a ground-truth company,
// creating it on first use.
func (g *gen) hsCompany(i int) domain.ExternalRef {
	if id, ok := g.hsCompanyOf[i]; ok {
		return ref(HubSpot, domain.ObjectCompany, id, time.Time{})
	}
	id := strconv.Itoa(hsCompanyBase + len(g.hsCompanyOf))
	g.hsCompanyOf[i] = id
	c := g.ds.Companies[i]
	c.Ref = ref(HubSpot, domain.ObjectCompany, id, c.UpdatedAt)
	g.ds.HubSpot.Companies = append(g.ds.HubSpot.Companies, c)
	return ref(HubSpot, domain.ObjectCompany, id, time.Time{})
}

// sfAccount returns the Salesforce Account for a ground-truth company.
func (g *gen) sfAccount(i int) domain.ExternalRef {
	if id, ok := g.sfAccountOf[i]; ok {
		return ref(Salesforce, domain.ObjectCompany, id, time.Time{})
	}
	id := sfID("001", len(g.sfAccountOf)+1)
	g.sfAccountOf[i] = id
	c := g.ds.Companies[i]
	c.Ref = ref(Salesforce, domain.ObjectCompany, id, c.UpdatedAt)
	g.ds.Salesforce.Companies = append(g.ds.Salesforce.Companies, c)
	return ref(Salesforce, domain.ObjectCompany, id, time.Time{})
}
