// Package identity holds the pure part of identity resolution: how the
// records of one person from several platforms fold into one profile,
// which profile survives when two turn out to be the same person, and when
// a field of a record counts as changed. It does no I/O; the store loads
// the records, calls the Resolver and writes the result, so the rules can
// be tested without a database and read in one place.
//
// The rules:
//   - records are matched by normalised email first (domain.NormalizeEmail),
//     then by external id (a platform record keeps its profile);
//   - survivorship is decided per field: a value never loses to an empty
//     one; among records that have a value, a configured source priority
//     for the field (Policy) decides first, then the newest value;
//   - "newest" is the time the field's value last changed on its record
//     (Record.FieldTimes, kept by the store with ChangedFields), not the
//     record's modification time: a platform bumps that for any write,
//     including the connector's own write-back, and such an echo must not
//     let the record's older values overtake another platform's;
//   - a company is merged field by field (name, domain, industry,
//     employees, annual revenue, country), so an order's billing company
//     that knows only a name and a country does not wipe a CRM company's
//     firmographics;
//   - emails and phones are the union of every record's, the record whose
//     list changed last first;
//   - consent is decided per channel, most restrictive first: a denial or
//     revocation on any record beats a grant elsewhere, and among equally
//     restrictive answers the newest (by the consent's own time when the
//     platform gives one, else the time the channel's value changed)
//     names the source. A survivorship priority list for a consent field
//     ("consent.email") or for "consent" replaces this with the usual rule:
//     source priority, then the newest answer;
//   - when profiles merge, the oldest (earliest created, then smallest id)
//     survives, so repeated merges are stable.
//
// # Resolving a page
//
// The store loads what a page can touch into a Snapshot (links, the
// profiles holding their emails, stored orders and companies); Apply
// resolves the page's changes in memory and marks what to write;
// FoldProfile recomputes each marked profile with the Resolver.
//
//   - A contact joins the profile of its own link, of any of its
//     normalised emails, and of the records the platform merged into it
//     (Contact.MergedIDs). When these are several profiles they merge: the
//     oldest survives, orders, links and history move to it, memberships of
//     the absorbed profile are closed with a history row, and the merge is
//     recorded with its reason (email, external id, platform merge) and
//     evidence. Profile(id) of an absorbed profile returns the survivor.
//   - An update older than the stored version of a record is skipped, so
//     pages may arrive out of order; an identical update changes nothing,
//     so re-applying a page reports no touched profile.
//   - A platform merge (ChangeMerge or MergedIDs) marks the loser's link
//     merged into the winner: it stays for explain but no longer feeds the
//     profile or write-back. If the winner is not known yet a placeholder
//     link holds its place.
//   - A platform delete marks the link deleted; the profile is recomputed
//     from the remaining records. When none remains the profile keeps its
//     last state, emails included, so a person who returns is recognised and
//     orders and history stay attached.
//   - Orders attach through their customer reference; an unknown customer
//     gets a placeholder link (carrying the billing email) that the real
//     contact later fills. Guest orders attach by billing email to a pseudo
//     record of object type "guest" whose id is a hash of the email; a
//     profile is created when nobody has that email.
//   - A privacy deletion erases the whole profile: every link keeps only
//     its id and is marked erased (and is never imported again), the
//     profile's fields and emails go, orders stay with their billing email
//     removed, quarantined raw records of those links are deleted and merge
//     evidence is blanked. Other platforms must be asked to delete their
//     copies; until they do, their records are skipped.
package identity

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
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
	// FieldTimes holds, per field name (see Fields), when the value last
	// changed on this record. A field without an entry counts as changed
	// at Contact.UpdatedAt (a record seen for the first time).
	FieldTimes map[string]time.Time
}

// platform returns the record's platform: the contact's, else the first
// part of its key.
func (r *Record) platform() string {
	if r.Contact.Ref.Platform != "" {
		return r.Contact.Ref.Platform
	}
	p, _, _ := strings.Cut(r.Key, "/")
	return p
}

// at returns when field last changed on the record.
func (r *Record) at(field string) time.Time {
	if t, ok := r.FieldTimes[field]; ok && !t.IsZero() {
		return t
	}
	if strings.HasPrefix(field, "company.") && r.Contact.Company == nil && r.Company != nil && !r.Company.UpdatedAt.IsZero() {
		// A company record of its own (CompanyRef) has its own time.
		return r.Company.UpdatedAt
	}
	return r.Contact.UpdatedAt
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

// Resolver folds records into profiles under a survivorship Policy. The
// zero Resolver applies "newest non-empty value wins" to every field.
type Resolver struct {
	Policy Policy
}

// Fold is Resolver{}.Fold: newest non-empty value wins every field.
func Fold(recs []Record) domain.Profile { return Resolver{}.Fold(recs) }

// candidate is one record's value for one field.
type candidate struct {
	rec *Record
	at  time.Time
}

// better reports whether a beats b for field: higher source priority,
// then the newer value, then the greater record key (a stable tie-break).
func (rv Resolver) better(field string, a, b candidate) bool {
	if ra, rb := rv.Policy.rank(field, a.rec.platform()), rv.Policy.rank(field, b.rec.platform()); ra != rb {
		return ra < rb
	}
	if c := a.at.Compare(b.at); c != 0 {
		return c > 0
	}
	return a.rec.Key > b.rec.Key
}

// pick returns the winning record among those for which has reports a
// value, or nil.
func (rv Resolver) pick(recs []Record, field string, has func(*Record) bool) *Record {
	var best candidate
	for i := range recs {
		r := &recs[i]
		if !has(r) {
			continue
		}
		c := candidate{rec: r, at: r.at(field)}
		if best.rec == nil || rv.better(field, c, best) {
			best = c
		}
	}
	return best.rec
}

// Fold merges records into the person fields of a profile: names, emails,
// phones, address, company, attributes, consent, lifecycle stage, sources,
// CreatedAt (the earliest record creation) and UpdatedAt (the latest time
// any field of any record changed). ID and Refs are left for the caller.
// The result does not depend on the order of recs.
func (rv Resolver) Fold(recs []Record) domain.Profile {
	var p domain.Profile
	src := map[string]string{}
	str := func(field string, dst *string, get func(*domain.Contact) string) {
		norm := func(r *Record) string {
			v := strings.TrimSpace(get(&r.Contact))
			if field == FieldLifecycleStage {
				v = strings.ToLower(v)
			}
			return v
		}
		if w := rv.pick(recs, field, func(r *Record) bool { return norm(r) != "" }); w != nil {
			*dst = norm(w)
			src[field] = w.Key
		}
	}
	str(FieldFirstName, &p.FirstName, func(c *domain.Contact) string { return c.FirstName })
	str(FieldLastName, &p.LastName, func(c *domain.Contact) string { return c.LastName })
	str(FieldGender, &p.Gender, func(c *domain.Contact) string { return c.Gender })
	str(FieldBirthDate, &p.BirthDate, func(c *domain.Contact) string { return c.BirthDate })
	str(FieldLifecycleStage, &p.LifecycleStage, func(c *domain.Contact) string { return c.LifecycleStage })
	if w := rv.pick(recs, FieldAddress, func(r *Record) bool { return r.Contact.Address != (domain.Address{}) }); w != nil {
		p.Address = w.Contact.Address
		src[FieldAddress] = w.Key
	}
	p.Company = rv.company(recs, src)
	rv.attributes(recs, &p, src)
	rv.consent(recs, &p, src)
	rv.lists(recs, &p, src)
	for i := range recs {
		c := &recs[i].Contact
		if !c.CreatedAt.IsZero() && (p.CreatedAt.IsZero() || c.CreatedAt.Before(p.CreatedAt)) {
			p.CreatedAt = c.CreatedAt.UTC()
		}
		if t := recs[i].latest(); t.After(p.UpdatedAt) {
			p.UpdatedAt = t.UTC()
		}
	}
	if len(src) > 0 {
		p.Sources = src
	}
	return p
}

// latest returns the last time any of the record's fields changed.
func (r *Record) latest() time.Time {
	if len(r.FieldTimes) == 0 {
		return r.Contact.UpdatedAt
	}
	var t time.Time
	for _, ft := range r.FieldTimes {
		if ft.After(t) {
			t = ft
		}
	}
	return t
}

// company merges the records' companies field by field. The merged
// company's Ref is the company record (one with a platform id) that would
// win the name, so a profile keeps pointing at its CRM account when a shop
// supplies a newer name; its UpdatedAt is the latest of the records that
// contributed.
func (rv Resolver) company(recs []Record, src map[string]string) *domain.Company {
	var out domain.Company
	found := false
	for _, f := range companyFields {
		field := FieldCompany + "." + f.name
		w := rv.pick(recs, field, func(r *Record) bool { return r.Company != nil && !f.empty(r.Company) })
		if w == nil {
			continue
		}
		found = true
		f.copy(&out, w.Company)
		src[field] = w.Key
		if w.Company.UpdatedAt.After(out.UpdatedAt) {
			out.UpdatedAt = w.Company.UpdatedAt
		}
	}
	if !found {
		return nil
	}
	if w := rv.pick(recs, FieldCompany+".name", func(r *Record) bool { return r.Company != nil && !r.Company.Ref.IsZero() }); w != nil {
		out.Ref = w.Company.Ref
		src[FieldCompany] = w.Key
	}
	return &out
}

func (rv Resolver) attributes(recs []Record, p *domain.Profile, src map[string]string) {
	keys := map[string]bool{}
	for i := range recs {
		for k := range recs[i].Contact.Attributes {
			keys[k] = true
		}
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range keys {
			if !yield(k) {
				return
			}
		}
	}) {
		field := FieldAttributes + "." + k
		w := rv.pick(recs, field, func(r *Record) bool { return r.Contact.Attributes[k] != "" })
		if w == nil {
			continue
		}
		if p.Attributes == nil {
			p.Attributes = map[string]string{}
		}
		p.Attributes[k] = w.Contact.Attributes[k]
		src[field] = w.Key
	}
}

// consent decides each channel. By default the most restrictive answer
// wins (denied or revoked over granted), the newest among equals; a
// person's "no" on one platform is not overridden by an older or stale
// "yes" elsewhere. When the policy sets a priority list for the channel
// (or for "consent"), source priority decides first, then the newest.
func (rv Resolver) consent(recs []Record, p *domain.Profile, src map[string]string) {
	channels := []struct {
		field string
		get   func(*domain.Consent) *domain.ConsentState
	}{
		{FieldConsentEmail, func(c *domain.Consent) *domain.ConsentState { return &c.Email }},
		{FieldConsentSMS, func(c *domain.Consent) *domain.ConsentState { return &c.SMS }},
		{FieldConsentTracking, func(c *domain.Consent) *domain.ConsentState { return &c.Tracking }},
	}
	for _, ch := range channels {
		_, prioritised := rv.Policy[ch.field]
		if _, group := rv.Policy["consent"]; group {
			prioritised = true
		}
		var best candidate
		for i := range recs {
			r := &recs[i]
			v := *ch.get(&r.Contact.Consent)
			if v == domain.ConsentUnknown {
				continue
			}
			at := r.Contact.Consent.UpdatedAt
			if at.IsZero() {
				at = r.at(ch.field)
			}
			c := candidate{rec: r, at: at}
			if best.rec == nil {
				best = c
				continue
			}
			if prioritised {
				if rv.better(ch.field, c, best) {
					best = c
				}
				continue
			}
			rc, rb := restrictiveness(v), restrictiveness(*ch.get(&best.rec.Contact.Consent))
			if rc > rb || (rc == rb && (c.at.After(best.at) || (c.at.Equal(best.at) && r.Key > best.rec.Key))) {
				best = c
			}
		}
		if best.rec == nil {
			continue
		}
		*ch.get(&p.Consent) = *ch.get(&best.rec.Contact.Consent)
		src[ch.field] = best.rec.Key
		if best.at.After(p.Consent.UpdatedAt) {
			p.Consent.UpdatedAt = best.at.UTC()
		}
	}
}

// restrictiveness orders consent answers: a refusal outranks a grant,
// and an unrecognised answer counts as a refusal.
func restrictiveness(s domain.ConsentState) int {
	switch s {
	case domain.ConsentUnknown:
		return 0
	case domain.ConsentGranted:
		return 1
	default:
		return 2
	}
}

// lists unites emails and phones, the record whose list changed last
// first, each record's own order kept.
func (rv Resolver) lists(recs []Record, p *domain.Profile, src map[string]string) {
	order := func(field string) []*Record {
		out := make([]*Record, len(recs))
		for i := range recs {
			out[i] = &recs[i]
		}
		slices.SortStableFunc(out, func(a, b *Record) int {
			if c := b.at(field).Compare(a.at(field)); c != 0 {
				return c
			}
			return cmp.Compare(b.Key, a.Key)
		})
		return out
	}
	for _, r := range order(FieldEmails) {
		for j, e := range Emails(&r.Contact) {
			if !slices.Contains(p.Emails, e) {
				if len(p.Emails) == 0 && j == 0 {
					src[FieldEmails] = r.Key
				}
				p.Emails = append(p.Emails, e)
			}
		}
	}
	for _, r := range order(FieldPhones) {
		for _, ph := range r.Contact.Phones {
			if ph = strings.TrimSpace(ph); ph != "" && !slices.Contains(p.Phones, ph) {
				if len(p.Phones) == 0 {
					src[FieldPhones] = r.Key
				}
				p.Phones = append(p.Phones, ph)
			}
		}
	}
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
