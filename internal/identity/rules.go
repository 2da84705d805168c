package identity

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// upsertContact links a contact (or a placeholder standing for a customer
// known only from an order) to a profile and returns the profile id.
func (s *Snapshot) upsertContact(c domain.Contact, placeholder bool) string {
	key := c.Ref.Key()
	l := s.Links[key]
	if l != nil && placeholder {
		// An order of a known customer: attach it, even to an erased
		// (anonymous) profile, so revenue is not lost.
		return s.Resolve(l.ProfileID)
	}
	if l != nil && l.State == store.LinkErased {
		s.Result.Skipped++ // never re-import an erased person
		return ""
	}
	if l != nil && !l.Placeholder && c.UpdatedAt.Before(l.UpdatedAt) {
		s.Result.Skipped++
		return s.Resolve(l.ProfileID)
	}
	// Candidates: the record's own profile (external id), then emails,
	// then records the platform merged into this one.
	var cands []string
	why := map[string][2]string{}
	add := func(p, reason, evidence string) {
		if p == "" {
			return
		}
		p = s.Resolve(p)
		if !s.alive(p) {
			return
		}
		if !slices.Contains(cands, p) {
			cands = append(cands, p)
			why[p] = [2]string{reason, evidence}
		}
	}
	if l != nil {
		add(l.ProfileID, "external id", key)
	}
	emails := Emails(&c)
	for _, e := range emails {
		add(s.Emails[e], "email", e)
	}
	for _, id := range c.MergedIDs {
		if ml := s.Links[MergedRef(c.Ref, id).Key()]; ml != nil && ml.State != store.LinkErased {
			add(ml.ProfileID, "platform merge", MergedRef(c.Ref, id).Key()+" -> "+key)
		}
	}
	var pid string
	switch len(cands) {
	case 0:
		pid = s.newProfile()
	case 1:
		pid = cands[0]
	default:
		pid = s.mergeProfiles(cands, why)
	}
	newData, _ := json.Marshal(c)
	if l == nil {
		l = &Link{Key: key, Ref: c.Ref, LinkedAt: s.Now, Placeholder: placeholder, State: store.LinkActive}
		l.Ref.LastModified = time.Time{}
		s.Links[key] = l
		l.ProfileID = pid
		l.Dirty = true
		kind := "linked"
		if placeholder {
			kind = "linked placeholder"
		}
		s.event(pid, kind, key, "")
	} else {
		// A record the platform merged away stays merged: its data is
		// kept but no longer feeds the profile.
		state := store.LinkActive
		if l.State == store.LinkMerged {
			state = store.LinkMerged
		}
		oldData, _ := json.Marshal(l.Contact)
		if string(oldData) != string(newData) || l.Placeholder != placeholder || l.State != state || l.ProfileID != pid {
			l.Dirty = true
		}
		if l.State == store.LinkDeleted {
			s.event(pid, "restored", key, "the platform sent the deleted record again")
		}
		l.State = state
		l.ProfileID = pid
		l.Placeholder = placeholder
	}
	if !l.Dirty {
		s.Result.Skipped++
		return pid
	}
	if !placeholder {
		s.Result.Upserted++
	}
	l.Times = ChangedFields(&l.Contact, l.Times, &c)
	l.Contact = c
	l.UpdatedAt = c.UpdatedAt
	l.CompanyKey = ""
	if !c.CompanyRef.IsZero() {
		l.CompanyKey = c.CompanyRef.Key()
	}
	for _, e := range emails {
		s.Emails[e] = pid
	}
	s.markRefold(pid)
	for _, id := range c.MergedIDs {
		if id != c.Ref.ID {
			s.platformMerge(MergedRef(c.Ref, id), c.Ref, "platform merge")
		}
	}
	return s.Resolve(pid)
}

// platformMerge records that the platform merged record from into record
// into; their profiles become one.
func (s *Snapshot) platformMerge(from, into domain.ExternalRef, reason string) {
	fk, ik := from.Key(), into.Key()
	lf, li := s.Links[fk], s.Links[ik]
	if lf != nil && lf.State == store.LinkMerged && lf.MergedInto == ik {
		return // already known
	}
	if (lf != nil && lf.State == store.LinkErased) || (li != nil && li.State == store.LinkErased) {
		return // an erased person is never joined to anyone again
	}
	if li == nil && lf != nil && lf.ProfileID != "" {
		// The survivor is not known yet: hold its place in the profile.
		li = &Link{Key: ik, Ref: into, ProfileID: lf.ProfileID, State: store.LinkActive, Placeholder: true,
			LinkedAt: s.Now, Contact: domain.Contact{Ref: into}, Dirty: true}
		s.Links[ik] = li
		s.event(s.Resolve(lf.ProfileID), "linked placeholder", ik, "survivor of a platform merge")
	}
	pid := ""
	if li != nil {
		pid = s.Resolve(li.ProfileID)
	}
	if lf != nil && li != nil {
		pf := s.Resolve(lf.ProfileID)
		if pf != pid && s.alive(pf) && s.alive(pid) {
			pid = s.mergeProfiles([]string{pid, pf}, map[string][2]string{
				pid: {reason, fk + " -> " + ik}, pf: {reason, fk + " -> " + ik},
			})
		}
	}
	if lf == nil {
		lf = &Link{Key: fk, Ref: from, LinkedAt: s.Now, Contact: domain.Contact{Ref: from}, Placeholder: true}
		s.Links[fk] = lf
	}
	lf.State = store.LinkMerged
	lf.MergedInto = ik
	if pid != "" {
		lf.ProfileID = pid
	}
	lf.Dirty = true
	if pid != "" {
		s.markRefold(pid)
		s.event(pid, "merged", fk, "merged into "+ik+" on the platform")
	}
	s.Result.Deleted++
}

func (s *Snapshot) upsertCompany(c *domain.Company) {
	k := c.Ref.Key()
	if old := s.Companies[k]; old != nil {
		if c.UpdatedAt.Before(old.UpdatedAt) {
			s.Result.Skipped++
			return
		}
		a, _ := json.Marshal(old)
		b, _ := json.Marshal(c)
		if string(a) == string(b) {
			s.Result.Skipped++
			return
		}
	}
	cc := *c
	s.Companies[k] = &cc
	s.CompanyDirty[k] = true
	delete(s.CompanyGone, k)
	s.Result.Upserted++
	for _, l := range s.Links {
		if l.CompanyKey == k {
			s.markRefold(l.ProfileID)
		}
	}
}

func (s *Snapshot) upsertOrder(o *domain.Order) {
	k := o.Ref.Key()
	old, exists := s.Orders[k]
	if w := s.OrderWrites[k]; w != nil {
		old, exists = StoredOrder{ProfileID: w.ProfileID, UpdatedAt: w.Order.UpdatedAt, Digest: w.Digest}, true
	}
	if exists && o.UpdatedAt.Before(old.UpdatedAt) {
		s.Result.Skipped++
		return
	}
	o.CreatedAt = o.CreatedAt.UTC()
	if !o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.UpdatedAt.UTC()
	}
	pid := ""
	email := domain.NormalizeEmail(o.BillingEmail)
	var buyer domain.ExternalRef
	switch {
	case !o.CustomerRef.IsZero():
		buyer = o.CustomerRef
		c := domain.Contact{Ref: buyer}
		if email != "" {
			c.Emails = []string{email}
		}
		pid = s.upsertContact(c, true)
	case email != "":
		buyer = GuestRef(o, email)
		pid = s.upsertContact(domain.Contact{Ref: buyer, Emails: []string{email}}, true)
	}
	if l := s.Links[buyer.Key()]; l != nil && l.State == store.LinkErased {
		o.BillingEmail = "" // the buyer was erased: keep the order anonymous
	}
	dg := OrderDigest(o, pid)
	if exists && old.Digest == dg && s.Resolve(old.ProfileID) == pid {
		s.Result.Skipped++
		return
	}
	delete(s.OrderDeletes, k)
	s.OrderWrites[k] = &OrderWrite{Order: *o, ProfileID: pid, Digest: dg, digestPID: pid, digestEmail: o.BillingEmail}
	s.Result.Upserted++
	s.Touched[pid] = true
	if exists && old.ProfileID != pid {
		s.Touched[old.ProfileID] = true
	}
}

func (s *Snapshot) delete(ref domain.ExternalRef, privacy bool) {
	k := ref.Key()
	switch {
	case IsOrder(ref):
		if w := s.OrderWrites[k]; w != nil {
			s.Touched[w.ProfileID] = true
			delete(s.OrderWrites, k)
		}
		if old, ok := s.Orders[k]; ok {
			s.OrderDeletes[k] = true
			s.Touched[old.ProfileID] = true
			s.Result.Deleted++
		}
	case IsCompany(ref):
		if _, ok := s.Companies[k]; ok {
			delete(s.Companies, k)
			delete(s.CompanyDirty, k)
			s.CompanyGone[k] = true
			s.Result.Deleted++
			for _, l := range s.Links {
				if l.CompanyKey == k {
					s.markRefold(l.ProfileID)
				}
			}
		}
	default:
		l := s.Links[k]
		if l == nil || l.State == store.LinkErased {
			s.Result.Skipped++
			return
		}
		pid := s.Resolve(l.ProfileID)
		if privacy {
			s.eraseProfile(pid, k)
			s.Result.Deleted++
			return
		}
		if l.State == store.LinkDeleted {
			s.Result.Skipped++
			return
		}
		l.State = store.LinkDeleted
		l.Dirty = true
		s.markRefold(pid)
		s.event(pid, "deleted", k, "deleted on the platform")
		s.Result.Deleted++
	}
}

// eraseProfile removes the personal data of a profile: every linked record
// keeps only its id and is marked erased (later upserts of it are not
// imported again), order billing emails and quarantined raw records go,
// merge evidence is blanked. Orders stay, anonymous, for revenue figures.
func (s *Snapshot) eraseProfile(pid, refKey string) {
	p := s.Profiles[pid]
	if p == nil {
		return
	}
	for _, l := range s.Links {
		if s.Resolve(l.ProfileID) != pid {
			continue
		}
		l.Contact = domain.Contact{Ref: l.Ref}
		l.Times = nil
		l.CompanyKey = ""
		l.State = store.LinkErased
		l.MergedInto = ""
		l.Dirty = true
	}
	for e, q := range s.Emails {
		if q == pid {
			delete(s.Emails, e)
		}
	}
	for k, w := range s.OrderWrites {
		if w.ProfileID == pid {
			w.Order.BillingEmail = ""
			s.OrderWrites[k] = w
		}
	}
	p.Refold = true
	p.Erased = true
	s.Erase = append(s.Erase, pid)
	s.event(pid, "erased", refKey, "privacy deletion: personal data erased")
}
