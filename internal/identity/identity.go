// Package identity holds the pure part of identity resolution: how the
// records of one person from several platforms fold into one profile, and
// which profile survives when two turn out to be the same person. It does
// no I/O; the store loads the records, calls Fold and writes the result, so
// the rules can be tested without a database and read in one place.
//
// The rules:
//   - records are matched by normalised email first (domain.NormalizeEmail),
//     then by external id (a platform record keeps its profile);
//   - for every field the most recently updated record (Contact.UpdatedAt)
//     that has a value wins, and Profile.Sources remembers which record;
//   - emails and phones are the union of every record's, the newest
//     record's primary email first;
//   - consent is decided per channel by the consent's own time when the
//     platform gives one, else the record's update time;
//   - when profiles merge, the oldest (earliest created, then smallest id)
//     survives, so repeated merges are stable.
package identity

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/domain"
)

// Record is one platform record's view of a person.
type Record struct {
	// Key names the record (ExternalRef.Key()); it becomes the source of
	// the fields it wins.
	Key     string
	Contact domain.Contact
	// Company is the record's firmographics: the inline company, or the
	// company its CompanyRef points at. Nil when unknown.
	Company *domain.Company
}

// Emails returns a contact's valid addresses, normalised, primary first,
// without duplicates.
func Emails(c *domain.Contact) []string {
	var out []string
	for _, e := range c.Emails {
		if n := domain.NormalizeEmail(e); n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// Fold merges records into the person fields of a profile: names, emails,
// phones, address, company, attributes, consent, lifecycle stage, sources,
// CreatedAt (the earliest record creation) and UpdatedAt (the latest record
// update). ID and Refs are left for the caller. The result does not depend
// on the order of recs.
func Fold(recs []Record) domain.Profile {
	sorted := slices.Clone(recs)
	slices.SortStableFunc(sorted, func(a, b Record) int {
		if c := a.Contact.UpdatedAt.Compare(b.Contact.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	var p domain.Profile
	src := map[string]string{}
	str := func(field string, dst *string, v, key string) {
		if v = strings.TrimSpace(v); v != "" {
			*dst = v
			src[field] = key
		}
	}
	var consentAt [3]time.Time
	consentSet := func(i int, field string, dst *domain.ConsentState, v domain.ConsentState, at time.Time, key string) {
		if v == domain.ConsentUnknown || at.Before(consentAt[i]) {
			return
		}
		consentAt[i] = at
		*dst = v
		src[field] = key
	}
	for _, r := range sorted {
		c := &r.Contact
		str("first_name", &p.FirstName, c.FirstName, r.Key)
		str("last_name", &p.LastName, c.LastName, r.Key)
		str("gender", &p.Gender, c.Gender, r.Key)
		str("birth_date", &p.BirthDate, c.BirthDate, r.Key)
		str("lifecycle_stage", &p.LifecycleStage, strings.ToLower(c.LifecycleStage), r.Key)
		if c.Address != (domain.Address{}) {
			p.Address = c.Address
			src["address"] = r.Key
		}
		if r.Company != nil {
			co := *r.Company
			p.Company = &co
			src["company"] = r.Key
		}
		for k, v := range c.Attributes {
			if v == "" {
				continue
			}
			if p.Attributes == nil {
				p.Attributes = map[string]string{}
			}
			p.Attributes[k] = v
			src["attributes."+k] = r.Key
		}
		at := c.Consent.UpdatedAt
		if at.IsZero() {
			at = c.UpdatedAt
		}
		consentSet(0, "consent.email", &p.Consent.Email, c.Consent.Email, at, r.Key)
		consentSet(1, "consent.sms", &p.Consent.SMS, c.Consent.SMS, at, r.Key)
		consentSet(2, "consent.tracking", &p.Consent.Tracking, c.Consent.Tracking, at, r.Key)
		if (c.Consent.Email != "" || c.Consent.SMS != "" || c.Consent.Tracking != "") && at.After(p.Consent.UpdatedAt) {
			p.Consent.UpdatedAt = at
		}
		if !c.CreatedAt.IsZero() && (p.CreatedAt.IsZero() || c.CreatedAt.Before(p.CreatedAt)) {
			p.CreatedAt = c.CreatedAt.UTC()
		}
		if c.UpdatedAt.After(p.UpdatedAt) {
			p.UpdatedAt = c.UpdatedAt.UTC()
		}
	}
	// Emails and phones: newest record first, each record's own order kept.
	for i := len(sorted) - 1; i >= 0; i-- {
		c := &sorted[i].Contact
		for j, e := range Emails(c) {
			if !slices.Contains(p.Emails, e) {
				if len(p.Emails) == 0 && j == 0 {
					src["emails"] = sorted[i].Key
				}
				p.Emails = append(p.Emails, e)
			}
		}
		for _, ph := range c.Phones {
			if ph = strings.TrimSpace(ph); ph != "" && !slices.Contains(p.Phones, ph) {
				if len(p.Phones) == 0 {
					src["phones"] = sorted[i].Key
				}
				p.Phones = append(p.Phones, ph)
			}
		}
	}
	if len(src) > 0 {
		p.Sources = src
	}
	return p
}

// Candidate is a profile that may absorb others in a merge.
type Candidate struct {
	ID        string
	CreatedAt time.Time
}

// Survivor returns the candidate that absorbs the others: the earliest
// created, then the smallest id.
func Survivor(cands []Candidate) Candidate {
	best := cands[0]
	for _, c := range cands[1:] {
		if c.CreatedAt.Before(best.CreatedAt) || (c.CreatedAt.Equal(best.CreatedAt) && c.ID < best.ID) {
			best = c
		}
	}
	return best
}
