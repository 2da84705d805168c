package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/internal/store"
)

// guestObject is the object type of the pseudo record that stands for a
// guest buyer known only by the billing email of their orders.
const guestObject = "guest"

type linkRow struct {
	key         string
	ref         domain.ExternalRef
	profileID   string
	state       store.LinkState
	mergedInto  string
	placeholder bool
	companyKey  string
	linkedAt    time.Time
	updatedAt   time.Time
	contact     domain.Contact
	// times holds when each field of contact last changed (see
	// identity.ChangedFields); stored beside the contact in links.data.
	times map[string]time.Time
	dirty bool
}

// linkData is the JSON stored in links.data: the record as last pulled,
// and when each of its fields last changed. Readers that want only the
// contact decode it into a domain.Contact.
type linkData struct {
	domain.Contact
	FieldTimes map[string]time.Time `json:"field_times,omitempty"`
}

type profileRow struct {
	id         string
	rowCreated time.Time
	oldData    string // stored JSON, "" for a new profile
	refold     bool
	gone       bool // merged into another profile in this page
	isNew      bool
	erased     bool
	newData    string
	emails     []string
	updatedAt  time.Time
}

type orderRow struct {
	profileID string
	updatedAt time.Time
	digest    string
}

type orderWrite struct {
	o         domain.Order
	profileID string
	digest    string
}

// unit is the in-memory working set of one ApplyPage.
type unit struct {
	e         *Engine
	tx        *sql.Tx
	now       time.Time
	links     map[string]*linkRow
	emails    map[string]string // normalised email -> profile id
	profiles  map[string]*profileRow
	redirect  map[string]string // merged-away profile -> absorber
	companies map[string]*domain.Company
	compDirty map[string]bool
	compGone  map[string]bool
	orders    map[string]orderRow
	oWrites   map[string]*orderWrite
	oDeletes  map[string]bool
	touched   map[string]bool
	merges    []store.Merge
	events    []store.Event
	quarant   [][]any
	erase     []string // profiles to erase
	res       store.ApplyResult
}

// ApplyPage implements store.Store.
func (e *Engine) ApplyPage(ctx context.Context, platform, account, object string, changes []adapter.Change, rejected []adapter.Rejected, nextCursor string) (store.ApplyResult, error) {
	var res store.ApplyResult
	err := e.inTx(ctx, func(tx *sql.Tx) error {
		if e.d.Serialize != nil {
			if err := e.d.Serialize(ctx, tx); err != nil {
				return err
			}
		}
		u := &unit{
			e: e, tx: tx, now: e.now().UTC(),
			links: map[string]*linkRow{}, emails: map[string]string{}, profiles: map[string]*profileRow{},
			redirect: map[string]string{}, companies: map[string]*domain.Company{}, compDirty: map[string]bool{},
			compGone: map[string]bool{}, orders: map[string]orderRow{}, oWrites: map[string]*orderWrite{},
			oDeletes: map[string]bool{}, touched: map[string]bool{},
		}
		if err := u.run(ctx, platform, account, object, changes, rejected); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO cursors (platform, account, object, cursor, updated_at) VALUES (?, ?, ?, ?, ?) `+
			upsertSuffix([]string{"platform", "account", "object", "cursor", "updated_at"}, "platform", "account", "object")),
			platform, account, object, nextCursor, ts(u.now)); err != nil {
			return fmt.Errorf("moving cursor of %s/%s/%s: %w", platform, account, object, err)
		}
		res = u.res
		e.log.DebugContext(ctx, "applied page", "platform", platform, "account", account, "object", object,
			"changes", len(changes), "upserted", res.Upserted, "deleted", res.Deleted, "skipped", res.Skipped,
			"quarantined", res.Quarantined, "created", len(res.Created), "merged", len(res.Merged), "touched", len(res.Touched))
		return nil
	})
	if err != nil {
		return store.ApplyResult{}, fmt.Errorf("applying %s %s page (%d changes): %w", platform, object, len(changes), err)
	}
	return res, nil
}

// normalizeChange fills the refs a connector may leave implicit and
// returns a reason when the change cannot be stored.
func normalizeChange(c *adapter.Change, platform, account, object string) (string, string) {
	fill := func(r *domain.ExternalRef, obj string) {
		if r.Platform == "" {
			r.Platform = platform
		}
		if r.Account == "" {
			r.Account = account
		}
		if r.ObjectType == "" {
			r.ObjectType = obj
		}
	}
	switch c.Kind {
	case adapter.ChangeUpsert:
		n := 0
		if c.Contact != nil {
			n++
			if c.Contact.Ref.IsZero() {
				c.Contact.Ref = c.Ref
			}
			fill(&c.Contact.Ref, object)
			c.Ref = c.Contact.Ref
		}
		if c.Company != nil {
			n++
			if c.Company.Ref.IsZero() {
				c.Company.Ref = c.Ref
			}
			fill(&c.Company.Ref, domain.ObjectCompany)
			c.Ref = c.Company.Ref
		}
		if c.Order != nil {
			n++
			if c.Order.Ref.IsZero() {
				c.Order.Ref = c.Ref
			}
			fill(&c.Order.Ref, object)
			c.Ref = c.Order.Ref
		}
		if n != 1 {
			return "upsert", fmt.Sprintf("upsert of %q carries %d records; exactly one of contact, company, order is required", c.Ref.Key(), n)
		}
	case adapter.ChangeDelete:
		fill(&c.Ref, object)
	case adapter.ChangeMerge:
		fill(&c.Ref, object)
		fill(&c.MergedInto, c.Ref.ObjectType)
		if c.MergedInto.IsZero() {
			return "merge", fmt.Sprintf("merge of %q has no merged_into id", c.Ref.Key())
		}
	default:
		return "change", fmt.Sprintf("unknown change kind %q for %q", c.Kind, c.Ref.Key())
	}
	if c.Ref.IsZero() {
		return string(c.Kind), fmt.Sprintf("%s change without a record id", c.Kind)
	}
	if c.Order != nil {
		o := c.Order
		if o.CreatedAt.IsZero() {
			return "order", fmt.Sprintf("order %q: created_at is missing", o.Ref.Key())
		}
		if o.Currency == "" {
			o.Currency = o.Total.Currency
		}
		if o.Currency == "" {
			return "order", fmt.Sprintf("order %q: currency is missing", o.Ref.Key())
		}
		if !o.CustomerRef.IsZero() {
			fill(&o.CustomerRef, domain.ObjectContact)
		}
	}
	if c.Contact != nil && !c.Contact.CompanyRef.IsZero() {
		fill(&c.Contact.CompanyRef, domain.ObjectCompany)
	}
	return "", ""
}

func isCompany(r domain.ExternalRef) bool { return r.ObjectType == domain.ObjectCompany }
func isOrder(r domain.ExternalRef) bool {
	return r.ObjectType == domain.ObjectOrder || r.ObjectType == domain.ObjectDeal
}

func (u *unit) run(ctx context.Context, platform, account, object string, changes []adapter.Change, rejected []adapter.Rejected) error {
	// The cursor's object may be qualified ("webhook/contact"); record
	// types default to its last part.
	if i := strings.LastIndexByte(object, '/'); i >= 0 {
		object = object[i+1:]
	}
	// Work on copies: the caller's page is not modified.
	chs := make([]adapter.Change, 0, len(changes))
	for i := range changes {
		c := changes[i]
		if c.Contact != nil {
			cc := *c.Contact
			c.Contact = &cc
		}
		if c.Company != nil {
			cc := *c.Company
			c.Company = &cc
		}
		if c.Order != nil {
			cc := *c.Order
			c.Order = &cc
		}
		if what, reason := normalizeChange(&c, platform, account, object); reason != "" {
			raw, _ := json.Marshal(changes[i])
			u.quarantine(platform, account, object, c.Ref, fmt.Sprintf("change %d (%s): %s", i, what, reason), raw)
			continue
		}
		chs = append(chs, c)
	}
	for _, r := range rejected {
		ref := r.Ref
		if ref.Platform == "" {
			ref.Platform = platform
		}
		if ref.Account == "" {
			ref.Account = account
		}
		if ref.ObjectType == "" {
			ref.ObjectType = object
		}
		u.quarantine(platform, account, object, ref, r.Reason, r.Raw)
	}
	if err := u.load(ctx, chs); err != nil {
		return err
	}
	// Companies first, so contacts in the same page see their firmographics.
	for _, c := range chs {
		if c.Kind == adapter.ChangeUpsert && c.Company != nil {
			u.upsertCompany(c.Company)
		}
	}
	for _, c := range chs {
		switch {
		case c.Kind == adapter.ChangeUpsert && c.Contact != nil:
			u.upsertContact(*c.Contact, false)
		case c.Kind == adapter.ChangeUpsert && c.Order != nil:
			u.upsertOrder(c.Order)
		case c.Kind == adapter.ChangeUpsert:
			// companies done above
		case c.Kind == adapter.ChangeDelete:
			u.delete(c.Ref, c.Privacy)
		case c.Kind == adapter.ChangeMerge:
			u.platformMerge(c.Ref, c.MergedInto, "platform merge")
		}
	}
	return u.write(ctx)
}

func (u *unit) quarantine(platform, account, object string, ref domain.ExternalRef, reason string, raw []byte) {
	rj, _ := json.Marshal(ref)
	if raw == nil {
		raw = []byte{}
	}
	u.quarant = append(u.quarant, []any{platform, account, object, ref.Key(), string(rj), reason, raw, ts(u.now)})
	u.res.Quarantined++
}

// load reads the links, emails, profiles and orders the page can touch.
func (u *unit) load(ctx context.Context, chs []adapter.Change) error {
	keySet := map[string]bool{}
	emailSet := map[string]bool{}
	var orderKeys, companyKeys []string
	for _, c := range chs {
		keySet[c.Ref.Key()] = true
		if !c.MergedInto.IsZero() {
			keySet[c.MergedInto.Key()] = true
		}
		if ct := c.Contact; ct != nil {
			for _, e := range identity.Emails(ct) {
				emailSet[e] = true
			}
			for _, id := range ct.MergedIDs {
				keySet[mergedRef(ct.Ref, id).Key()] = true
			}
		}
		if o := c.Order; o != nil {
			if !o.CustomerRef.IsZero() {
				keySet[o.CustomerRef.Key()] = true
			}
			if e := domain.NormalizeEmail(o.BillingEmail); e != "" {
				emailSet[e] = true
				keySet[guestRef(o, e).Key()] = true
			}
		}
		if isOrder(c.Ref) {
			orderKeys = append(orderKeys, c.Ref.Key())
		}
		if isCompany(c.Ref) {
			companyKeys = append(companyKeys, c.Ref.Key())
		}
	}
	profileIDs := map[string]bool{}
	if err := u.loadLinks(ctx, "ref_key", slices.Collect(maps.Keys(keySet)), profileIDs); err != nil {
		return err
	}
	err := inList(slices.Collect(maps.Keys(emailSet)), func(list string, args []any) error {
		rows, err := u.tx.QueryContext(ctx, u.e.q(`SELECT email, profile_id FROM profile_emails WHERE email IN `+list), args...)
		if err != nil {
			return fmt.Errorf("loading emails: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e, p string
			if err := rows.Scan(&e, &p); err != nil {
				return fmt.Errorf("loading emails: %w", err)
			}
			u.emails[e] = p
			profileIDs[p] = true
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	err = inList(orderKeys, func(list string, args []any) error {
		rows, err := u.tx.QueryContext(ctx, u.e.q(`SELECT ref_key, profile_id, updated_at, digest FROM orders WHERE ref_key IN `+list), args...)
		if err != nil {
			return fmt.Errorf("loading orders: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			var o orderRow
			var up int64
			if err := rows.Scan(&k, &o.profileID, &up, &o.digest); err != nil {
				return fmt.Errorf("loading orders: %w", err)
			}
			o.updatedAt = fromTS(up)
			u.orders[k] = o
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	// Profiles whose contacts point at a company in this page are refolded.
	if len(companyKeys) > 0 {
		if err := u.loadCompanies(ctx, companyKeys); err != nil {
			return err
		}
		if err := u.loadLinks(ctx, "company_key", companyKeys, profileIDs); err != nil {
			return err
		}
		for _, l := range u.links {
			if l.companyKey != "" && slices.Contains(companyKeys, l.companyKey) {
				profileIDs[l.profileID] = true
			}
		}
	}
	delete(profileIDs, "")
	return u.loadProfiles(ctx, slices.Collect(maps.Keys(profileIDs)))
}

func (u *unit) loadLinks(ctx context.Context, col string, keys []string, profileIDs map[string]bool) error {
	return inList(keys, func(list string, args []any) error {
		rows, err := u.tx.QueryContext(ctx, u.e.q(`SELECT ref_key, platform, account, object_type, ext_id, profile_id, state, merged_into, placeholder, company_key, linked_at, updated_at, data FROM links WHERE `+col+` IN `+list), args...)
		if err != nil {
			return fmt.Errorf("loading links: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			l := &linkRow{}
			var ph int
			var linked, updated int64
			var data string
			if err := rows.Scan(&l.key, &l.ref.Platform, &l.ref.Account, &l.ref.ObjectType, &l.ref.ID, &l.profileID, &l.state, &l.mergedInto, &ph, &l.companyKey, &linked, &updated, &data); err != nil {
				return fmt.Errorf("loading links: %w", err)
			}
			if _, ok := u.links[l.key]; ok {
				continue
			}
			l.placeholder = ph != 0
			l.linkedAt, l.updatedAt = fromTS(linked), fromTS(updated)
			var ld linkData
			if err := json.Unmarshal([]byte(data), &ld); err != nil {
				return fmt.Errorf("decoding link %s: %w", l.key, err)
			}
			l.contact, l.times = ld.Contact, ld.FieldTimes
			u.links[l.key] = l
			if profileIDs != nil {
				profileIDs[l.profileID] = true
			}
		}
		return rows.Err()
	})
}

func (u *unit) loadCompanies(ctx context.Context, keys []string) error {
	var need []string
	for _, k := range keys {
		if _, ok := u.companies[k]; !ok && k != "" && !u.compGone[k] {
			need = append(need, k)
		}
	}
	return inList(need, func(list string, args []any) error {
		rows, err := u.tx.QueryContext(ctx, u.e.q(`SELECT ref_key, data FROM companies WHERE ref_key IN `+list), args...)
		if err != nil {
			return fmt.Errorf("loading companies: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k, data string
			if err := rows.Scan(&k, &data); err != nil {
				return fmt.Errorf("loading companies: %w", err)
			}
			var c domain.Company
			if err := json.Unmarshal([]byte(data), &c); err != nil {
				return fmt.Errorf("decoding company %s: %w", k, err)
			}
			u.companies[k] = &c
		}
		return rows.Err()
	})
}

// loadProfiles reads profile rows, all their links and emails.
func (u *unit) loadProfiles(ctx context.Context, ids []string) error {
	err := inList(ids, func(list string, args []any) error {
		rows, err := u.tx.QueryContext(ctx, u.e.q(`SELECT id, row_created, data FROM profiles WHERE id IN `+list), args...)
		if err != nil {
			return fmt.Errorf("loading profiles: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			p := &profileRow{}
			var rc int64
			if err := rows.Scan(&p.id, &rc, &p.oldData); err != nil {
				return fmt.Errorf("loading profiles: %w", err)
			}
			p.rowCreated = fromTS(rc)
			u.profiles[p.id] = p
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	if err := u.loadLinks(ctx, "profile_id", ids, nil); err != nil {
		return err
	}
	return inList(ids, func(list string, args []any) error {
		rows, err := u.tx.QueryContext(ctx, u.e.q(`SELECT email, profile_id FROM profile_emails WHERE profile_id IN `+list), args...)
		if err != nil {
			return fmt.Errorf("loading profile emails: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e, p string
			if err := rows.Scan(&e, &p); err != nil {
				return fmt.Errorf("loading profile emails: %w", err)
			}
			u.emails[e] = p
		}
		return rows.Err()
	})
}

func mergedRef(into domain.ExternalRef, id string) domain.ExternalRef {
	return domain.ExternalRef{Platform: into.Platform, Account: into.Account, ObjectType: into.ObjectType, ID: id}
}

// guestRef names the pseudo record of a guest buyer. Its id is a hash of
// the email, so that a privacy erasure leaves no address behind in keys.
func guestRef(o *domain.Order, email string) domain.ExternalRef {
	h := sha256.Sum256([]byte(email))
	return domain.ExternalRef{Platform: o.Ref.Platform, Account: o.Ref.Account, ObjectType: guestObject, ID: "sha256:" + hex.EncodeToString(h[:16])}
}

// alive reports whether id is a loaded profile that can take part in
// resolution (not erased, not merged away).
func (u *unit) alive(id string) bool {
	p := u.profiles[id]
	return p != nil && !p.erased && !p.gone
}

// refold marks a profile (after merges) for recomputation.
func (u *unit) refold(id string) {
	if p := u.profiles[u.resolve(id)]; p != nil {
		p.refold = true
	}
}

// resolve follows merges to the surviving profile.
func (u *unit) resolve(id string) string {
	for i := 0; i < 64; i++ {
		next, ok := u.redirect[id]
		if !ok {
			return id
		}
		id = next
	}
	return id
}

func (u *unit) event(profileID, kind, refKey, detail string) {
	u.events = append(u.events, store.Event{At: u.now, ProfileID: profileID, Kind: kind, RefKey: refKey, Detail: detail})
}

func (u *unit) newProfile() string {
	id := uuid.Must(uuid.NewV7()).String()
	u.profiles[id] = &profileRow{id: id, rowCreated: u.now, isNew: true, refold: true}
	u.res.Created = append(u.res.Created, id)
	return id
}

// mergeProfiles merges every candidate into the survivor and returns it.
func (u *unit) mergeProfiles(cands []string, reason map[string][2]string) string {
	var cs []identity.Candidate
	for _, id := range cands {
		p := u.profiles[id]
		created := p.rowCreated
		cs = append(cs, identity.Candidate{ID: id, CreatedAt: created})
	}
	surv := identity.Survivor(cs).ID
	for _, id := range cands {
		if id == surv {
			continue
		}
		from := u.profiles[id]
		from.gone = true
		u.redirect[id] = surv
		for _, l := range u.links {
			if l.profileID == id {
				l.profileID = surv
				l.dirty = true
			}
		}
		for e, p := range u.emails {
			if p == id {
				u.emails[e] = surv
			}
		}
		for _, w := range u.oWrites {
			if w.profileID == id {
				w.profileID = surv
			}
		}
		r := reason[id]
		u.merges = append(u.merges, store.Merge{From: id, Into: surv, At: u.now, Reason: r[0], Evidence: r[1]})
		u.event(surv, "absorbed", "", "profile "+id+" merged in ("+r[0]+")")
		if u.res.Merged == nil {
			u.res.Merged = map[string]string{}
		}
		for k, v := range u.res.Merged {
			if v == id {
				u.res.Merged[k] = surv
			}
		}
		u.res.Merged[id] = surv
	}
	u.profiles[surv].refold = true
	return surv
}

// upsertContact links a contact (or a placeholder standing for a customer
// known only from an order) to a profile and returns the profile id.
func (u *unit) upsertContact(c domain.Contact, placeholder bool) string {
	key := c.Ref.Key()
	l := u.links[key]
	if l != nil && placeholder {
		// An order of a known customer: attach it, even to an erased
		// (anonymous) profile, so revenue is not lost.
		return u.resolve(l.profileID)
	}
	if l != nil && l.state == store.LinkErased {
		u.res.Skipped++ // never re-import an erased person
		return ""
	}
	if l != nil && !l.placeholder && c.UpdatedAt.Before(l.updatedAt) {
		u.res.Skipped++
		return u.resolve(l.profileID)
	}
	// Candidates: the record's own profile (external id), then emails,
	// then records the platform merged into this one.
	var cands []string
	why := map[string][2]string{}
	add := func(p, reason, evidence string) {
		if p == "" {
			return
		}
		p = u.resolve(p)
		if !u.alive(p) {
			return
		}
		if !slices.Contains(cands, p) {
			cands = append(cands, p)
			why[p] = [2]string{reason, evidence}
		}
	}
	if l != nil {
		add(l.profileID, "external id", key)
	}
	emails := identity.Emails(&c)
	for _, e := range emails {
		add(u.emails[e], "email", e)
	}
	for _, id := range c.MergedIDs {
		if ml := u.links[mergedRef(c.Ref, id).Key()]; ml != nil && ml.state != store.LinkErased {
			add(ml.profileID, "platform merge", mergedRef(c.Ref, id).Key()+" -> "+key)
		}
	}
	var pid string
	switch len(cands) {
	case 0:
		pid = u.newProfile()
	case 1:
		pid = cands[0]
	default:
		pid = u.mergeProfiles(cands, why)
	}
	newData, _ := json.Marshal(c)
	if l == nil {
		l = &linkRow{key: key, ref: c.Ref, linkedAt: u.now, placeholder: placeholder, state: store.LinkActive}
		l.ref.LastModified = time.Time{}
		u.links[key] = l
		l.profileID = pid
		l.dirty = true
		kind := "linked"
		if placeholder {
			kind = "linked placeholder"
		}
		u.event(pid, kind, key, "")
	} else {
		// A record the platform merged away stays merged: its data is
		// kept but no longer feeds the profile.
		state := store.LinkActive
		if l.state == store.LinkMerged {
			state = store.LinkMerged
		}
		oldData, _ := json.Marshal(l.contact)
		if string(oldData) != string(newData) || l.placeholder != placeholder || l.state != state || l.profileID != pid {
			l.dirty = true
		}
		if l.state == store.LinkDeleted {
			u.event(pid, "restored", key, "the platform sent the deleted record again")
		}
		l.state = state
		l.profileID = pid
		l.placeholder = placeholder
	}
	if !l.dirty {
		u.res.Skipped++
		return pid
	}
	if !placeholder {
		u.res.Upserted++
	}
	l.times = identity.ChangedFields(&l.contact, l.times, &c)
	l.contact = c
	l.updatedAt = c.UpdatedAt
	l.companyKey = ""
	if !c.CompanyRef.IsZero() {
		l.companyKey = c.CompanyRef.Key()
	}
	for _, e := range emails {
		u.emails[e] = pid
	}
	u.refold(pid)
	for _, id := range c.MergedIDs {
		if id != c.Ref.ID {
			u.platformMerge(mergedRef(c.Ref, id), c.Ref, "platform merge")
		}
	}
	return u.resolve(pid)
}

// platformMerge records that the platform merged record from into record
// into; their profiles become one.
func (u *unit) platformMerge(from, into domain.ExternalRef, reason string) {
	fk, ik := from.Key(), into.Key()
	lf, li := u.links[fk], u.links[ik]
	if lf != nil && lf.state == store.LinkMerged && lf.mergedInto == ik {
		return // already known
	}
	if (lf != nil && lf.state == store.LinkErased) || (li != nil && li.state == store.LinkErased) {
		return // an erased person is never joined to anyone again
	}
	if li == nil && lf != nil && lf.profileID != "" {
		// The survivor is not known yet: hold its place in the profile.
		li = &linkRow{key: ik, ref: into, profileID: lf.profileID, state: store.LinkActive, placeholder: true,
			linkedAt: u.now, contact: domain.Contact{Ref: into}, dirty: true}
		u.links[ik] = li
		u.event(u.resolve(lf.profileID), "linked placeholder", ik, "survivor of a platform merge")
	}
	pid := ""
	if li != nil {
		pid = u.resolve(li.profileID)
	}
	if lf != nil && li != nil {
		pf := u.resolve(lf.profileID)
		if pf != pid && u.alive(pf) && u.alive(pid) {
			pid = u.mergeProfiles([]string{pid, pf}, map[string][2]string{
				pid: {reason, fk + " -> " + ik}, pf: {reason, fk + " -> " + ik},
			})
		}
	}
	if lf == nil {
		lf = &linkRow{key: fk, ref: from, linkedAt: u.now, contact: domain.Contact{Ref: from}, placeholder: true}
		u.links[fk] = lf
	}
	lf.state = store.LinkMerged
	lf.mergedInto = ik
	if pid != "" {
		lf.profileID = pid
	}
	lf.dirty = true
	if pid != "" {
		u.refold(pid)
		u.event(pid, "merged", fk, "merged into "+ik+" on the platform")
	}
	u.res.Deleted++
}

func (u *unit) upsertCompany(c *domain.Company) {
	k := c.Ref.Key()
	if old := u.companies[k]; old != nil {
		if c.UpdatedAt.Before(old.UpdatedAt) {
			u.res.Skipped++
			return
		}
		a, _ := json.Marshal(old)
		b, _ := json.Marshal(c)
		if string(a) == string(b) {
			u.res.Skipped++
			return
		}
	}
	cc := *c
	u.companies[k] = &cc
	u.compDirty[k] = true
	delete(u.compGone, k)
	u.res.Upserted++
	for _, l := range u.links {
		if l.companyKey == k {
			u.refold(l.profileID)
		}
	}
}

func orderDigest(o *domain.Order, profileID string) string {
	b, _ := json.Marshal(o)
	h := sha256.New()
	h.Write(b)
	h.Write([]byte{0})
	h.Write([]byte(profileID))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (u *unit) upsertOrder(o *domain.Order) {
	k := o.Ref.Key()
	old, exists := u.orders[k]
	if w := u.oWrites[k]; w != nil {
		old, exists = orderRow{profileID: w.profileID, updatedAt: w.o.UpdatedAt, digest: w.digest}, true
	}
	if exists && o.UpdatedAt.Before(old.updatedAt) {
		u.res.Skipped++
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
		pid = u.upsertContact(c, true)
	case email != "":
		buyer = guestRef(o, email)
		pid = u.upsertContact(domain.Contact{Ref: buyer, Emails: []string{email}}, true)
	}
	if l := u.links[buyer.Key()]; l != nil && l.state == store.LinkErased {
		o.BillingEmail = "" // the buyer was erased: keep the order anonymous
	}
	dg := orderDigest(o, pid)
	if exists && old.digest == dg && u.resolve(old.profileID) == pid {
		u.res.Skipped++
		return
	}
	delete(u.oDeletes, k)
	u.oWrites[k] = &orderWrite{o: *o, profileID: pid, digest: dg}
	u.res.Upserted++
	u.touched[pid] = true
	if exists && old.profileID != pid {
		u.touched[old.profileID] = true
	}
}

func (u *unit) delete(ref domain.ExternalRef, privacy bool) {
	k := ref.Key()
	switch {
	case isOrder(ref):
		if w := u.oWrites[k]; w != nil {
			u.touched[w.profileID] = true
			delete(u.oWrites, k)
		}
		if old, ok := u.orders[k]; ok {
			u.oDeletes[k] = true
			u.touched[old.profileID] = true
			u.res.Deleted++
		}
	case isCompany(ref):
		if _, ok := u.companies[k]; ok {
			delete(u.companies, k)
			delete(u.compDirty, k)
			u.compGone[k] = true
			u.res.Deleted++
			for _, l := range u.links {
				if l.companyKey == k {
					u.refold(l.profileID)
				}
			}
		}
	default:
		l := u.links[k]
		if l == nil || l.state == store.LinkErased {
			u.res.Skipped++
			return
		}
		pid := u.resolve(l.profileID)
		if privacy {
			u.eraseProfile(pid, k)
			u.res.Deleted++
			return
		}
		if l.state == store.LinkDeleted {
			u.res.Skipped++
			return
		}
		l.state = store.LinkDeleted
		l.dirty = true
		u.refold(pid)
		u.event(pid, "deleted", k, "deleted on the platform")
		u.res.Deleted++
	}
}

// eraseProfile removes the personal data of a profile: every linked record
// keeps only its id and is marked erased (later upserts of it are not
// imported again), order billing emails and quarantined raw records go,
// merge evidence is blanked. Orders stay, anonymous, for revenue figures.
func (u *unit) eraseProfile(pid, refKey string) {
	p := u.profiles[pid]
	if p == nil {
		return
	}
	for _, l := range u.links {
		if u.resolve(l.profileID) != pid {
			continue
		}
		l.contact = domain.Contact{Ref: l.ref}
		l.times = nil
		l.companyKey = ""
		l.state = store.LinkErased
		l.mergedInto = ""
		l.dirty = true
	}
	for e, q := range u.emails {
		if q == pid {
			delete(u.emails, e)
		}
	}
	for k, w := range u.oWrites {
		if w.profileID == pid {
			w.o.BillingEmail = ""
			u.oWrites[k] = w
		}
	}
	p.refold = true
	p.erased = true
	u.erase = append(u.erase, pid)
	u.event(pid, "erased", refKey, "privacy deletion: personal data erased")
}

// fold recomputes a profile from its records.
func (u *unit) fold(p *profileRow, links []*linkRow) error {
	var active []identity.Record
	for _, l := range links {
		rec := identity.Record{Key: l.key, Contact: l.contact, FieldTimes: l.times}
		if l.contact.Company != nil {
			co := *l.contact.Company
			rec.Company = &co
		} else if c := u.companies[l.companyKey]; c != nil && l.companyKey != "" {
			rec.Company = c
		}
		if l.state == store.LinkActive {
			active = append(active, rec)
		}
	}
	if len(active) == 0 && p.oldData != "" && !p.erased {
		// Every record is gone from its platform: keep the last known
		// state (and its emails, so the person is recognised if they
		// come back) with orders and history attached.
		var old domain.Profile
		if err := json.Unmarshal([]byte(p.oldData), &old); err != nil {
			return fmt.Errorf("decoding profile %s: %w", p.id, err)
		}
		p.emails, p.updatedAt, p.newData = old.Emails, old.UpdatedAt, p.oldData
		return nil
	}
	prof := u.e.ident.Fold(active)
	prof.ID = p.id
	if prof.CreatedAt.IsZero() {
		prof.CreatedAt = p.rowCreated.UTC()
	}
	p.emails = prof.Emails
	p.updatedAt = prof.UpdatedAt
	b, err := json.Marshal(prof)
	if err != nil {
		return fmt.Errorf("encoding profile %s: %w", p.id, err)
	}
	p.newData = string(b)
	return nil
}

// write stores everything the unit decided.
func (u *unit) write(ctx context.Context) error {
	tx := u.tx
	e := u.e
	// Companies needed by refolded profiles.
	var ck []string
	for _, l := range u.links {
		if l.companyKey != "" && l.contact.Company == nil && u.profiles[l.profileID] != nil && u.profiles[l.profileID].refold {
			ck = append(ck, l.companyKey)
		}
	}
	if err := u.loadCompanies(ctx, ck); err != nil {
		return err
	}
	var compRows [][]any
	for k := range u.compDirty {
		c := u.companies[k]
		data, _ := json.Marshal(c)
		compRows = append(compRows, []any{k, c.Ref.Platform, c.Ref.Account, c.Ref.ObjectType, c.Ref.ID, ts(c.UpdatedAt), string(data)})
	}
	compCols := []string{"ref_key", "platform", "account", "object_type", "ext_id", "updated_at", "data"}
	if err := e.bulkInsert(ctx, tx, "companies", compCols, upsertSuffix(compCols, "ref_key"), compRows); err != nil {
		return err
	}
	if err := inList(slices.Collect(maps.Keys(u.compGone)), func(list string, args []any) error {
		_, err := tx.ExecContext(ctx, e.q(`DELETE FROM companies WHERE ref_key IN `+list), args...)
		return err
	}); err != nil {
		return fmt.Errorf("deleting companies: %w", err)
	}

	// Profiles.
	byProfile := map[string][]*linkRow{}
	for _, l := range u.links {
		if l.profileID != "" {
			l.profileID = u.resolve(l.profileID)
			byProfile[l.profileID] = append(byProfile[l.profileID], l)
		}
	}
	var gone, refolded []string
	var profRows, emailRows [][]any
	for _, id := range slices.Sorted(maps.Keys(u.profiles)) {
		p := u.profiles[id]
		if p.gone {
			gone = append(gone, id)
			continue
		}
		if !p.refold {
			continue
		}
		if err := u.fold(p, byProfile[id]); err != nil {
			return err
		}
		refolded = append(refolded, id)
		for _, em := range p.emails {
			emailRows = append(emailRows, []any{em, id})
		}
		if p.newData != p.oldData {
			primary := ""
			if len(p.emails) > 0 {
				primary = p.emails[0]
			}
			profRows = append(profRows, []any{id, primary, ts(p.rowCreated), ts(p.updatedAt), p.newData})
			u.touched[id] = true
		}
	}
	if err := inList(gone, func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM profiles WHERE id IN `+list), args...); err != nil {
			return fmt.Errorf("deleting merged profiles: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	profCols := []string{"id", "primary_email", "row_created", "updated_at", "data"}
	if err := e.bulkInsert(ctx, tx, "profiles", profCols, upsertSuffix(profCols, "id"), profRows); err != nil {
		return err
	}
	// Emails: rebuilt for every refolded or merged-away profile.
	if err := inList(append(slices.Clone(gone), refolded...), func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM profile_emails WHERE profile_id IN `+list), args...); err != nil {
			return fmt.Errorf("clearing profile emails: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := e.bulkInsert(ctx, tx, "profile_emails", []string{"email", "profile_id"}, "ON CONFLICT (email) DO UPDATE SET profile_id = excluded.profile_id", emailRows); err != nil {
		return err
	}

	// Links.
	var linkRows [][]any
	for _, k := range slices.Sorted(maps.Keys(u.links)) {
		l := u.links[k]
		if !l.dirty {
			continue
		}
		data, _ := json.Marshal(linkData{Contact: l.contact, FieldTimes: l.times})
		linkRows = append(linkRows, []any{l.key, l.ref.Platform, l.ref.Account, l.ref.ObjectType, l.ref.ID, u.resolve(l.profileID), string(l.state),
			l.mergedInto, b2i(l.placeholder), l.companyKey, ts(l.linkedAt), ts(l.updatedAt), string(data)})
	}
	linkCols := []string{"ref_key", "platform", "account", "object_type", "ext_id", "profile_id", "state", "merged_into", "placeholder", "company_key", "linked_at", "updated_at", "data"}
	if err := e.bulkInsert(ctx, tx, "links", linkCols, upsertSuffix(linkCols, "ref_key"), linkRows); err != nil {
		return err
	}

	// Merges: orders and memberships follow the survivor.
	for _, m := range u.merges {
		into := u.resolve(m.Into)
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE orders SET profile_id = ? WHERE profile_id = ?`), into, m.From); err != nil {
			return fmt.Errorf("moving orders of merged profile %s: %w", m.From, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO membership_history (profile_id, segment, entered, at, control, reason)
			SELECT profile_id, segment, 0, ?, control, ? FROM memberships WHERE profile_id = ?`), ts(u.now), "merged into "+into, m.From); err != nil {
			return fmt.Errorf("closing memberships of merged profile %s: %w", m.From, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM memberships WHERE profile_id = ?`), m.From); err != nil {
			return fmt.Errorf("closing memberships of merged profile %s: %w", m.From, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE identity_events SET profile_id = ? WHERE profile_id = ?`), into, m.From); err != nil {
			return fmt.Errorf("moving events of merged profile %s: %w", m.From, err)
		}
		u.touched[into] = true
	}
	var mergeRows, eventRows [][]any
	for _, m := range u.merges {
		mergeRows = append(mergeRows, []any{m.From, m.Into, ts(m.At), m.Reason, m.Evidence})
	}
	for _, ev := range u.events {
		eventRows = append(eventRows, []any{ts(ev.At), u.resolve(ev.ProfileID), ev.Kind, ev.RefKey, ev.Detail})
	}
	if err := e.bulkInsert(ctx, tx, "profile_merges", []string{"from_id", "into_id", "at", "reason", "evidence"}, "", mergeRows); err != nil {
		return err
	}
	if err := e.bulkInsert(ctx, tx, "identity_events", []string{"at", "profile_id", "kind", "ref_key", "detail"}, "", eventRows); err != nil {
		return err
	}

	// Orders and line items.
	var orderRows, itemRows [][]any
	var written []string
	for _, k := range slices.Sorted(maps.Keys(u.oWrites)) {
		w := u.oWrites[k]
		o := w.o
		pid := u.resolve(w.profileID)
		u.touched[pid] = true
		w.digest = orderDigest(&w.o, pid)
		billing := o.BillingEmail
		items := o.Items
		o.BillingEmail, o.Items = "", nil
		data, _ := json.Marshal(o)
		ckey := ""
		if !o.CustomerRef.IsZero() {
			ckey = o.CustomerRef.Key()
		}
		orderRows = append(orderRows, []any{k, o.Ref.Platform, o.Ref.Account, o.Ref.ObjectType, o.Ref.ID, pid, ckey, billing,
			ts(o.CreatedAt), ts(o.UpdatedAt), string(o.Status), o.Currency, o.Total.Amount, o.Refunded.Amount, w.digest, string(data)})
		written = append(written, k)
		for i, it := range items {
			cur := it.UnitPrice.Currency
			if cur == "" {
				cur = o.Currency
			}
			itemRows = append(itemRows, []any{k, i, it.SKU, it.Name, it.Category, it.Quantity, it.UnitPrice.Amount, cur})
		}
	}
	orderCols := []string{"ref_key", "platform", "account", "object_type", "ext_id", "profile_id", "customer_key", "billing_email",
		"created_at", "updated_at", "status", "currency", "total", "refunded", "digest", "data"}
	if err := e.bulkInsert(ctx, tx, "orders", orderCols, upsertSuffix(orderCols, "ref_key"), orderRows); err != nil {
		return err
	}
	var existing []string
	for _, k := range written {
		if _, ok := u.orders[k]; ok {
			existing = append(existing, k)
		}
	}
	dels := append(existing, slices.Collect(maps.Keys(u.oDeletes))...)
	if err := inList(dels, func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM order_items WHERE order_key IN `+list), args...); err != nil {
			return fmt.Errorf("replacing order items: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := inList(slices.Collect(maps.Keys(u.oDeletes)), func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM orders WHERE ref_key IN `+list), args...); err != nil {
			return fmt.Errorf("deleting orders: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := e.bulkInsert(ctx, tx, "order_items", []string{"order_key", "line_no", "sku", "name", "category", "quantity", "unit_price", "currency"}, "", itemRows); err != nil {
		return err
	}

	// Privacy erasures.
	for _, pid := range u.erase {
		pid = u.resolve(pid)
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE orders SET billing_email = '' WHERE profile_id = ?`), pid); err != nil {
			return fmt.Errorf("erasing order emails of %s: %w", pid, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE profile_merges SET evidence = '(erased)' WHERE into_id = ? OR from_id = ?`), pid, pid); err != nil {
			return fmt.Errorf("erasing merge evidence of %s: %w", pid, err)
		}
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM quarantine WHERE ref_key IN (SELECT ref_key FROM links WHERE profile_id = ?)`), pid); err != nil {
			return fmt.Errorf("erasing quarantined records of %s: %w", pid, err)
		}
		u.touched[pid] = true
	}

	// One row per (record, reason): the last of the page wins, and a row
	// already stored is refreshed rather than repeated.
	seen := map[[2]string]int{}
	var quar [][]any
	for _, r := range u.quarant {
		k := [2]string{r[3].(string), r[5].(string)}
		if i, ok := seen[k]; ok {
			quar[i] = r
			continue
		}
		seen[k] = len(quar)
		quar = append(quar, r)
	}
	if err := e.bulkInsert(ctx, tx, "quarantine", []string{"platform", "account", "object", "ref_key", "ref", "reason", "raw", "at"},
		"ON CONFLICT (ref_key, reason) DO UPDATE SET platform = excluded.platform, account = excluded.account, object = excluded.object, ref = excluded.ref, raw = excluded.raw, at = excluded.at",
		quar); err != nil {
		return err
	}

	touched := map[string]bool{}
	for id := range u.touched {
		if id != "" {
			touched[u.resolve(id)] = true
		}
	}
	u.res.Touched = slices.Sorted(maps.Keys(touched))
	var created []string
	for _, c := range u.res.Created {
		if !u.profiles[c].gone {
			created = append(created, c)
		}
	}
	u.res.Created = created
	return nil
}
