package identity

import (
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

func cref(platform, id string) domain.ExternalRef {
	return domain.ExternalRef{Platform: platform, ObjectType: domain.ObjectContact, ID: id}
}

func upsert(r domain.ExternalRef, at time.Time, emails ...string) adapter.Change {
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: r, Contact: &domain.Contact{Ref: r, Emails: emails, FirstName: "X", UpdatedAt: at}}
}

// stored puts a profile with one linked record into s, as the store would
// load it.
func stored(s *Snapshot, pid string, created time.Time, r domain.ExternalRef, updated time.Time, email string) {
	s.Profiles[pid] = &ProfileState{ID: pid, RowCreated: created, OldData: `{"id":"` + pid + `"}`}
	c := domain.Contact{Ref: r, Emails: []string{email}, UpdatedAt: updated}
	s.Links[r.Key()] = &Link{Key: r.Key(), Ref: r, ProfileID: pid, State: store.LinkActive, LinkedAt: created, UpdatedAt: updated, Contact: c}
	s.Emails[email] = pid
}

// aliveIDs returns the ids of profiles neither merged away nor erased.
func (s *Snapshot) aliveIDs() []string {
	var out []string
	for id := range s.Profiles {
		if s.alive(id) {
			out = append(out, id)
		}
	}
	return out
}

func TestSnapshotApply(t *testing.T) {
	cases := []struct {
		name  string
		setup func(s *Snapshot)
		page  []adapter.Change
		check func(t *testing.T, s *Snapshot)
	}{
		{
			name: "one email on three platforms is one new profile",
			page: []adapter.Change{
				upsert(cref("hubspot", "1"), t0, "Ann@Example.com"),
				upsert(cref("salesforce", "003A"), t0, " ann@example.COM "),
				upsert(cref("woocommerce", "7"), t0, "ANN@EXAMPLE.COM"),
			},
			check: func(t *testing.T, s *Snapshot) {
				if ids := s.aliveIDs(); len(ids) != 1 || len(s.Result.Created) != 1 || s.Result.Upserted != 3 {
					t.Fatalf("profiles %v, created %v, upserted %d; want one new profile from three records", ids, s.Result.Created, s.Result.Upserted)
				}
				for k, l := range s.Links {
					if l.ProfileID != s.Result.Created[0] || !l.Dirty {
						t.Errorf("link %s -> %s (dirty %v); want the new profile", k, l.ProfileID, l.Dirty)
					}
				}
			},
		},
		{
			name: "a contact with the emails of two profiles merges them into the oldest",
			setup: func(s *Snapshot) {
				stored(s, "p-new", t0.Add(time.Hour), cref("hubspot", "1"), t0, "a@x.test")
				stored(s, "p-old", t0, cref("woocommerce", "2"), t0, "b@x.test")
			},
			page: []adapter.Change{upsert(cref("salesforce", "3"), t0.Add(time.Hour), "b@x.test", "a@x.test")},
			check: func(t *testing.T, s *Snapshot) {
				if len(s.Merges) != 1 || s.Merges[0].From != "p-new" || s.Merges[0].Into != "p-old" || s.Merges[0].Reason != "email" {
					t.Fatalf("merges = %+v; want p-new merged into the older p-old by email", s.Merges)
				}
				if s.Resolve("p-new") != "p-old" || s.Result.Merged["p-new"] != "p-old" || !s.Profiles["p-new"].Gone {
					t.Errorf("p-new resolves to %s, result %v", s.Resolve("p-new"), s.Result.Merged)
				}
				if l := s.Links[cref("hubspot", "1").Key()]; l.ProfileID != "p-old" || !l.Dirty {
					t.Errorf("hubspot link -> %s; want moved to the survivor", l.ProfileID)
				}
			},
		},
		{
			name:  "an update older than the stored record is skipped",
			setup: func(s *Snapshot) { stored(s, "p", t0, cref("hubspot", "1"), t0.Add(time.Hour), "a@x.test") },
			page:  []adapter.Change{upsert(cref("hubspot", "1"), t0, "a@x.test")},
			check: func(t *testing.T, s *Snapshot) {
				if s.Result.Skipped != 1 || s.Result.Upserted != 0 || s.Profiles["p"].Refold {
					t.Errorf("result %+v, refold %v; want skipped and nothing to refold", s.Result, s.Profiles["p"].Refold)
				}
			},
		},
		{
			name: "a guest order makes a profile from its billing email",
			page: []adapter.Change{{Kind: adapter.ChangeUpsert, Order: &domain.Order{
				Ref:          domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectOrder, ID: "9"},
				BillingEmail: "Guest@X.test", CreatedAt: t0, Currency: "EUR"}}},
			check: func(t *testing.T, s *Snapshot) {
				o := &domain.Order{Ref: domain.ExternalRef{Platform: "woocommerce", ObjectType: domain.ObjectOrder, ID: "9"}}
				l := s.Links[GuestRef(o, "guest@x.test").Key()]
				w := s.OrderWrites["woocommerce//order/9"]
				if l == nil || !l.Placeholder || w == nil || w.ProfileID != l.ProfileID || s.Emails["guest@x.test"] != l.ProfileID {
					t.Fatalf("guest link %+v, order write %+v; want both on one new profile", l, w)
				}
			},
		},
		{
			name:  "a privacy delete erases every record of the profile",
			setup: func(s *Snapshot) { stored(s, "p", t0, cref("hubspot", "1"), t0, "a@x.test") },
			page:  []adapter.Change{{Kind: adapter.ChangeDelete, Ref: cref("hubspot", "1"), Privacy: true}},
			check: func(t *testing.T, s *Snapshot) {
				l := s.Links[cref("hubspot", "1").Key()]
				if l.State != store.LinkErased || len(l.Contact.Emails) != 0 || len(s.Erase) != 1 || s.Emails["a@x.test"] != "" {
					t.Errorf("link %+v, erase %v, email index %v; want the person erased", l, s.Erase, s.Emails)
				}
			},
		},
		{
			name: "a platform merge joins the two records' profiles",
			setup: func(s *Snapshot) {
				stored(s, "p1", t0, cref("hubspot", "1"), t0, "a@x.test")
				stored(s, "p2", t0.Add(time.Hour), cref("hubspot", "2"), t0, "b@x.test")
			},
			page: []adapter.Change{{Kind: adapter.ChangeMerge, Ref: cref("hubspot", "2"), MergedInto: cref("hubspot", "1")}},
			check: func(t *testing.T, s *Snapshot) {
				l := s.Links[cref("hubspot", "2").Key()]
				if l.State != store.LinkMerged || l.MergedInto != cref("hubspot", "1").Key() || s.Resolve("p2") != "p1" {
					t.Errorf("link %+v, p2 -> %s; want merged into hubspot 1 and p1", l, s.Resolve("p2"))
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSnapshot(t0.Add(24*time.Hour), Resolver{})
			if tc.setup != nil {
				tc.setup(s)
			}
			var page []adapter.Change
			for _, c := range tc.page {
				if _, reason := NormalizeChange(&c, "test", "", domain.ObjectContact); reason != "" {
					t.Fatalf("NormalizeChange: %s", reason)
				}
				page = append(page, c)
			}
			s.Apply(page)
			tc.check(t, s)
		})
	}
}

func TestNormalizeChangeRejects(t *testing.T) {
	cases := []struct {
		name string
		c    adapter.Change
		want string
	}{
		{"no record", adapter.Change{Kind: adapter.ChangeUpsert, Ref: cref("x", "1")}, "exactly one of contact, company, order"},
		{"merge without target", adapter.Change{Kind: adapter.ChangeMerge, Ref: cref("x", "1")}, "no merged_into id"},
		{"order without time", adapter.Change{Kind: adapter.ChangeUpsert, Order: &domain.Order{Ref: domain.ExternalRef{ID: "1"}, Currency: "EUR"}}, "created_at is missing"},
		{"order without currency", adapter.Change{Kind: adapter.ChangeUpsert, Order: &domain.Order{Ref: domain.ExternalRef{ID: "1"}, CreatedAt: t0}}, "currency is missing"},
		{"unknown kind", adapter.Change{Kind: "rename", Ref: cref("x", "1")}, "unknown change kind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			if _, reason := NormalizeChange(&c, "woocommerce", "", domain.ObjectOrder); !strings.Contains(reason, tc.want) || reason == "" {
				t.Errorf("reason %q; want one containing %q", reason, tc.want)
			}
		})
	}
}
