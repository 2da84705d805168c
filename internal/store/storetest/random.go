package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// testRandomPages applies pseudo-random pages of upserts, orders, deletes,
// merges and privacy deletions over a small pool of people, and after
// every page checks the invariants of identity resolution: an email or a
// platform record leads to exactly one profile, the profile lookups agree,
// orders belong to existing profiles, re-applying the page changes
// nothing, and a view kept up to date from ChangedSince equals a full load.
func testRandomPages(t *testing.T, open Factory) {
	seeds := randomSeeds
	if raceEnabled {
		seeds = 1
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { randomPages(t, open, seed) })
	}
}

// randomSeeds is how many pseudo-random histories testRandomPages plays.
var randomSeeds uint64 = 3

func randomPages(t *testing.T, open Factory, seed uint64) {
	ctx := context.Background()
	s := open(t, store.Options{})
	r := rand.New(rand.NewPCG(seed, 11))
	platforms := []string{"hubspot", "salesforce", "woocommerce"}
	clock := t0
	view := newChangeView(t, s)
	for page := 0; page < 20; page++ {
		platform := platforms[r.IntN(len(platforms))]
		used := map[string]bool{}
		var chs []adapter.Change
		for tries := 0; len(chs) < 12 && tries < 200; tries++ {
			id := fmt.Sprint(r.IntN(15))
			if used[id] {
				continue
			}
			used[id] = true
			clock = clock.Add(time.Minute)
			cref := ref(platform, domain.ObjectContact, id)
			switch k := r.IntN(20); {
			case k < 11:
				c := contact(platform, id, fmt.Sprintf("Person%d@Example.com", r.IntN(12)), fmt.Sprintf("N%d", r.IntN(5)), clock)
				if r.IntN(4) == 0 {
					c.Contact.Emails = append(c.Contact.Emails, fmt.Sprintf("person%d@example.com", r.IntN(12)))
				}
				chs = append(chs, c)
			case k < 15:
				var billing string
				cust := cref
				if r.IntN(3) == 0 {
					cust = domain.ExternalRef{}
					billing = fmt.Sprintf("person%d@example.com", r.IntN(12))
				}
				chs = append(chs, order(platform, "o"+id+"-"+fmt.Sprint(r.IntN(3)), cust, billing, clock, int64(r.IntN(10000))))
			case k < 17:
				chs = append(chs, adapter.Change{Kind: adapter.ChangeDelete, Ref: cref})
			case k < 19:
				into := fmt.Sprint(r.IntN(15))
				if into == id || used[into] {
					continue
				}
				used[into] = true
				chs = append(chs, adapter.Change{Kind: adapter.ChangeMerge, Ref: cref, MergedInto: ref(platform, domain.ObjectContact, into)})
			default:
				chs = append(chs, adapter.Change{Kind: adapter.ChangeDelete, Ref: cref, Privacy: true})
			}
		}
		if _, err := s.ApplyPage(ctx, platform, "", "contact", chs, nil, fmt.Sprint(page)); err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		checkInvariants(t, s, page, page%6 == 5 || page == 19)
		view.check(t, page)
		res, err := s.ApplyPage(ctx, platform, "", "contact", chs, nil, fmt.Sprint(page))
		if err != nil {
			t.Fatalf("page %d again: %v", page, err)
		}
		if len(res.Touched) != 0 || len(res.Created) != 0 || len(res.Merged) != 0 {
			for _, c := range chs {
				t.Logf("%s %s privacy=%v merged_into=%s", c.Kind, c.Ref.Key(), c.Privacy, c.MergedInto.Key())
			}
			t.Fatalf("page %d applied twice changed the store: %+v", page, res)
		}
	}
}

// checkInvariants checks that emails and records are on one profile each;
// with lookups it also checks that the lookups and Explain agree.
func checkInvariants(t *testing.T, s store.Store, page int, lookups bool) {
	t.Helper()
	ctx := context.Background()
	emails := map[string]string{}
	refs := map[string]string{}
	ids := map[string]bool{}
	var all []store.ProfileOrders
	err := s.EachProfile(ctx, func(po store.ProfileOrders) error {
		all = append(all, po)
		ids[po.Profile.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, po := range all {
		p := po.Profile
		for _, e := range p.Emails {
			if other, ok := emails[e]; ok {
				t.Fatalf("page %d: email %s on profiles %s and %s", page, e, other, p.ID)
			}
			emails[e] = p.ID
			if !lookups {
				continue
			}
			byEmail, err := s.ProfileByEmail(ctx, e)
			if err != nil || byEmail.ID != p.ID {
				t.Fatalf("page %d: ProfileByEmail(%s) = %s, %v; the profile holding it is %s", page, e, byEmail.ID, err, p.ID)
			}
		}
		for _, r := range p.Refs {
			if other, ok := refs[r.Key()]; ok {
				t.Fatalf("page %d: record %s on profiles %s and %s", page, r.Key(), other, p.ID)
			}
			refs[r.Key()] = p.ID
			if !lookups {
				continue
			}
			byRef, err := s.ProfileByRef(ctx, r)
			if err != nil || byRef.ID != p.ID {
				t.Fatalf("page %d: ProfileByRef(%s) = %s, %v; want %s", page, r.Key(), byRef.ID, err, p.ID)
			}
		}
		if !lookups {
			continue
		}
		x, err := s.Explain(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range x.Merges {
			if ids[m.From] {
				t.Fatalf("page %d: profile %s merged into %s still exists", page, m.From, m.Into)
			}
		}
	}
}
