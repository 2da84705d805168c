package salesforcefake

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Demo reports what SeedDemo created.
type Demo struct {
	Accounts, Contacts, Leads, Opportunities []string
}

// SeedDemo fills the org with a believable small-business data set for
// `connector sandbox` and the demo: n Contacts spread over n/10 Accounts,
// n/5 Leads, and per Contact zero to six Opportunities over the two years
// before asOf (most Closed Won, some lost, a few open). The same seed
// gives the same data.
func (f *Fake) SeedDemo(n int, seed uint64, asOf time.Time) Demo {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	countries := []string{"United States", "Germany", "United Kingdom", "France", "US", "Canada", "Netherlands", "Spain"}
	industries := []string{"Retail", "Manufacturing", "Technology", "Healthcare", "Hospitality", "Education"}
	first := []string{"Ada", "Ben", "Chloé", "Dmitri", "Eva", "Femi", "Grace", "Hiro", "Ines", "Jon", "Kai", "Lena"}
	last := []string{"Smith", "Müller", "O'Brien", "Rossi", "Dubois", "Tanaka", "Nowak", "García", "Okafor", "Lee"}
	var d Demo
	nAcc := max(1, n/10)
	d.Accounts = f.Seed("Account", nAcc, func(i int) map[string]any {
		return map[string]any{
			"Name":     fmt.Sprintf("%s %s", last[i%len(last)], []string{"GmbH", "Ltd", "Inc", "SARL", "BV"}[i%5]),
			"Industry": industries[rng.IntN(len(industries))], "NumberOfEmployees": 1 + rng.IntN(500),
			"AnnualRevenue": fmt.Sprintf("%d.00", 50000+rng.IntN(5000000)), "BillingCountry": countries[rng.IntN(len(countries))],
			"Website": fmt.Sprintf("https://www.company%d.example", i),
		}
	})
	d.Contacts = f.Seed("Contact", n, func(i int) map[string]any {
		fn, ln := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		m := map[string]any{
			"FirstName": fn, "LastName": ln, "Email": fmt.Sprintf("customer%d@example.com", i),
			"AccountId": d.Accounts[rng.IntN(nAcc)], "MailingCountry": countries[rng.IntN(len(countries))],
			"MailingCity": "Springfield", "LeadSource": []string{"Web", "Phone Inquiry", "Partner Referral", "Trade Show"}[rng.IntN(4)],
			"HasOptedOutOfEmail": rng.IntN(20) == 0,
		}
		if rng.IntN(3) == 0 {
			m["Birthdate"] = fmt.Sprintf("%d-%02d-%02d", 1950+rng.IntN(50), 1+rng.IntN(12), 1+rng.IntN(28))
		}
		return m
	})
	d.Leads = f.Seed("Lead", max(1, n/5), func(i int) map[string]any {
		return map[string]any{
			"FirstName": first[rng.IntN(len(first))], "LastName": last[rng.IntN(len(last))],
			"Email": fmt.Sprintf("lead%d@example.com", i), "Company": fmt.Sprintf("Prospect %d", i),
			"Status":  []string{"Open - Not Contacted", "Working - Contacted"}[rng.IntN(2)],
			"Country": countries[rng.IntN(len(countries))], "Industry": industries[rng.IntN(len(industries))],
		}
	})
	type opp struct{ fields map[string]any }
	var opps []opp
	for _, cid := range d.Contacts {
		k := rng.IntN(7)
		for range k {
			closeDate := asOf.AddDate(0, 0, -rng.IntN(730))
			stage, won, closed := "Closed Won", true, true
			switch r := rng.IntN(10); {
			case r == 0:
				stage, won = "Closed Lost", false
			case r == 1:
				stage, won, closed = "Prospecting", false, false
				closeDate = asOf.AddDate(0, 0, rng.IntN(90))
			}
			opps = append(opps, opp{map[string]any{
				"Name": "Order " + cid[len(cid)-8:], "ContactId": cid, "StageName": stage, "IsWon": won, "IsClosed": closed,
				"CloseDate": closeDate.Format("2006-01-02"), "Amount": fmt.Sprintf("%d.%02d", 20+rng.IntN(900), rng.IntN(100)),
			}})
		}
	}
	d.Opportunities = f.Seed("Opportunity", len(opps), func(i int) map[string]any { return opps[i].fields })
	return d
}
