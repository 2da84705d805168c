package identity

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func rec(key string, updated time.Time, c domain.Contact) Record {
	c.UpdatedAt = updated
	return Record{Key: key, Contact: c}
}

func TestFoldMostRecentWinsPerField(t *testing.T) {
	recs := []Record{
		rec("hubspot//contact/1", t0.Add(2*time.Hour), domain.Contact{
			Emails: []string{"Ann@Example.com"}, FirstName: "Ann", Attributes: map[string]string{"tier": "gold"},
			CreatedAt: t0.Add(time.Hour),
		}),
		rec("salesforce//contact/9", t0.Add(time.Hour), domain.Contact{
			Emails: []string{"ann@example.com", "ann@work.test"}, FirstName: "Anne", LastName: "Lee",
			Phones: []string{" +1 555 0100 "}, Attributes: map[string]string{"tier": "silver", "region": "west"},
			Address: domain.Address{City: "Leeds", Country: "GB"}, CreatedAt: t0,
		}),
	}
	p := Fold(recs)
	if p.FirstName != "Ann" || p.LastName != "Lee" {
		t.Errorf("names = %q %q; want the newest first name and the only last name", p.FirstName, p.LastName)
	}
	if !slices.Equal(p.Emails, []string{"ann@example.com", "ann@work.test"}) {
		t.Errorf("emails = %v; want normalised, deduplicated, newest primary first", p.Emails)
	}
	if !slices.Equal(p.Phones, []string{"+1 555 0100"}) {
		t.Errorf("phones = %v", p.Phones)
	}
	if p.Attributes["tier"] != "gold" || p.Attributes["region"] != "west" {
		t.Errorf("attributes = %v", p.Attributes)
	}
	want := map[string]string{
		"first_name": "hubspot//contact/1", "last_name": "salesforce//contact/9", "emails": "hubspot//contact/1",
		"phones": "salesforce//contact/9", "attributes.tier": "hubspot//contact/1", "attributes.region": "salesforce//contact/9",
		"address": "salesforce//contact/9",
	}
	if !reflect.DeepEqual(p.Sources, want) {
		t.Errorf("sources = %v\nwant      %v", p.Sources, want)
	}
	if !p.CreatedAt.Equal(t0) || !p.UpdatedAt.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("created %v updated %v; want the earliest creation and the latest update", p.CreatedAt, p.UpdatedAt)
	}
}

func TestFoldConsentUsesItsOwnTime(t *testing.T) {
	recs := []Record{
		rec("a", t0.Add(5*time.Hour), domain.Contact{Consent: domain.Consent{Email: domain.ConsentGranted, UpdatedAt: t0}}),
		rec("b", t0, domain.Contact{Consent: domain.Consent{Email: domain.ConsentRevoked, SMS: domain.ConsentGranted, UpdatedAt: t0.Add(time.Hour)}}),
	}
	p := Fold(recs)
	if p.Consent.Email != domain.ConsentRevoked || p.Sources["consent.email"] != "b" {
		t.Errorf("consent = %+v from %q; the later revocation must win even from an older record", p.Consent, p.Sources["consent.email"])
	}
	if !p.Consent.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("consent time = %v", p.Consent.UpdatedAt)
	}
}

func TestFoldIsOrderIndependent(t *testing.T) {
	var recs []Record
	for i := 0; i < 6; i++ {
		r := rec(string(rune('a'+i)), t0.Add(time.Duration(i%3)*time.Hour), domain.Contact{
			FirstName: string(rune('A' + i)), Emails: []string{string(rune('a'+i)) + "@x.test"},
		})
		r.Company = &domain.Company{Name: string(rune('K' + i))}
		recs = append(recs, r)
	}
	want := Fold(recs)
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 20; n++ {
		shuffled := slices.Clone(recs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := Fold(shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("fold depends on input order:\n%+v\n%+v", got, want)
		}
	}
	// Ties on update time are broken by key: "f" (index 5, 2h) beats "c".
	if want.FirstName != "F" || want.Company.Name != "P" {
		t.Errorf("tie-break: %q %q", want.FirstName, want.Company.Name)
	}
}

func TestEmailsDropsInvalid(t *testing.T) {
	got := Emails(&domain.Contact{Emails: []string{"", "nope", "A@B.test", "a@b.test", "x y@z.test"}})
	if !slices.Equal(got, []string{"a@b.test"}) {
		t.Errorf("Emails = %v", got)
	}
}

func TestSurvivorIsOldestThenSmallestID(t *testing.T) {
	got := Survivor([]Candidate{{"b", t0.Add(time.Hour)}, {"c", t0}, {"a", t0}})
	if got.ID != "a" {
		t.Errorf("survivor = %s, want a", got.ID)
	}
}

func BenchmarkFold(b *testing.B) {
	recs := []Record{
		rec("hubspot//contact/1", t0, domain.Contact{Emails: []string{"a@x.test"}, FirstName: "A", Attributes: map[string]string{"k": "v"}}),
		rec("woocommerce//contact/1", t0.Add(time.Hour), domain.Contact{Emails: []string{"a@x.test"}, LastName: "B", Phones: []string{"1"}}),
		rec("salesforce//contact/1", t0.Add(2*time.Hour), domain.Contact{Emails: []string{"A@x.test"}, FirstName: "C"}),
	}
	for b.Loop() {
		Fold(recs)
	}
}

func TestFoldConsentMostRestrictiveWins(t *testing.T) {
	recs := []Record{
		rec("hubspot//contact/1", t0, domain.Contact{Consent: domain.Consent{Email: domain.ConsentDenied, UpdatedAt: t0}}),
		rec("salesforce//contact/2", t0.Add(5*time.Hour), domain.Contact{Consent: domain.Consent{Email: domain.ConsentGranted, UpdatedAt: t0.Add(5 * time.Hour)}}),
	}
	p := Fold(recs)
	if p.Consent.Email != domain.ConsentDenied || p.Sources["consent.email"] != "hubspot//contact/1" {
		t.Errorf("consent = %+v from %q; an older opt-out must beat a newer grant by default", p.Consent, p.Sources["consent.email"])
	}
	// A priority list for consent restores "priority, then newest".
	p = Resolver{Policy: Policy{"consent": {"salesforce"}}}.Fold(recs)
	if p.Consent.Email != domain.ConsentGranted || p.Sources["consent.email"] != "salesforce//contact/2" {
		t.Errorf("consent with a priority list = %+v from %q; want salesforce's grant", p.Consent, p.Sources["consent.email"])
	}
}
