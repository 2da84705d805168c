package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// GuestObject is the object type of the pseudo record that stands for a
// guest buyer known only by the billing email of their orders.
const GuestObject = "guest"

// Link is a platform record's link to a profile, as stored.
type Link struct {
	Key         string
	Ref         domain.ExternalRef
	ProfileID   string
	State       store.LinkState
	MergedInto  string
	Placeholder bool
	CompanyKey  string
	LinkedAt    time.Time
	UpdatedAt   time.Time
	Contact     domain.Contact
	// Times holds when each field of Contact last changed (see
	// ChangedFields).
	Times map[string]time.Time
	// Dirty marks a link the store must write.
	Dirty bool
}

// ProfileState is a stored profile row while a page is resolved.
type ProfileState struct {
	ID         string
	RowCreated time.Time
	OldData    string // stored JSON, "" for a new profile
	Refold     bool   // recompute from its records (FoldProfile)
	Gone       bool   // merged into another profile in this page
	IsNew      bool
	Erased     bool
	// Set by FoldProfile:
	NewData   string
	Emails    []string
	UpdatedAt time.Time
}

// StoredOrder is what the store holds of an order.
type StoredOrder struct {
	ProfileID string
	UpdatedAt time.Time
	Digest    string
}

// OrderWrite is an order to store.
type OrderWrite struct {
	Order     domain.Order
	ProfileID string
	Digest    string
	// digestPID and digestEmail are the profile and billing email Digest
	// was computed with; a merge or an erasure later in the page may
	// change either (see DigestFor).
	digestPID, digestEmail string
}

// DigestFor returns the order's digest for profile pid: Digest when
// neither pid nor the billing email changed since it was computed, else
// a fresh OrderDigest (which it keeps).
func (w *OrderWrite) DigestFor(pid string) string {
	if w.Digest == "" || pid != w.digestPID || w.Order.BillingEmail != w.digestEmail {
		w.Digest = OrderDigest(&w.Order, pid)
		w.digestPID, w.digestEmail = pid, w.Order.BillingEmail
	}
	return w.Digest
}

// Snapshot is the working set of one page: the stored state the page can
// touch, loaded by the store, and what resolving the page decided. The
// store loads it, calls Apply and FoldProfile, and writes what is marked
// (dirty links, refolded profiles, CompanyDirty, OrderWrites, Merges, ...).
type Snapshot struct {
	Now      time.Time
	Resolver Resolver
	// NewID names a new profile; NewSnapshot sets time-ordered UUIDs
	// (v7), and tests may set their own.
	NewID func() string

	Links        map[string]*Link           // by ref key
	Emails       map[string]string          // normalised email -> profile id
	Profiles     map[string]*ProfileState   // by id
	Redirect     map[string]string          // merged-away profile -> absorber
	Companies    map[string]*domain.Company // by ref key
	CompanyDirty map[string]bool
	CompanyGone  map[string]bool
	Orders       map[string]StoredOrder // by ref key, as stored
	OrderWrites  map[string]*OrderWrite
	OrderDeletes map[string]bool
	Touched      map[string]bool // profiles whose data or orders changed
	Merges       []store.Merge
	Events       []store.Event
	Erase        []string // profiles to erase
	Result       store.ApplyResult
}

// NewSnapshot returns an empty snapshot taken at now.
func NewSnapshot(now time.Time, r Resolver) *Snapshot {
	return &Snapshot{
		Now: now, Resolver: r, NewID: func() string { return uuid.Must(uuid.NewV7()).String() },
		Links: map[string]*Link{}, Emails: map[string]string{}, Profiles: map[string]*ProfileState{},
		Redirect: map[string]string{}, Companies: map[string]*domain.Company{}, CompanyDirty: map[string]bool{},
		CompanyGone: map[string]bool{}, Orders: map[string]StoredOrder{}, OrderWrites: map[string]*OrderWrite{},
		OrderDeletes: map[string]bool{}, Touched: map[string]bool{},
	}
}

// Apply resolves normalised changes (see NormalizeChange) against the
// snapshot: companies first, so contacts of the same page see their
// firmographics, then contacts, orders, deletes and merges in order.
func (s *Snapshot) Apply(chs []adapter.Change) {
	for _, c := range chs {
		if c.Kind == adapter.ChangeUpsert && c.Company != nil {
			s.upsertCompany(c.Company)
		}
	}
	for _, c := range chs {
		switch {
		case c.Kind == adapter.ChangeUpsert && c.Contact != nil:
			s.upsertContact(*c.Contact, false)
		case c.Kind == adapter.ChangeUpsert && c.Order != nil:
			s.upsertOrder(c.Order)
		case c.Kind == adapter.ChangeUpsert:
			// companies done above
		case c.Kind == adapter.ChangeDelete:
			s.delete(c.Ref, c.Privacy)
		case c.Kind == adapter.ChangeMerge:
			s.platformMerge(c.Ref, c.MergedInto, "platform merge")
		}
	}
}

// CompaniesToFold returns the keys of companies that profiles to refold
// point at, for the store to load before FoldProfile.
func (s *Snapshot) CompaniesToFold() []string {
	var out []string
	for _, l := range s.Links {
		if l.CompanyKey != "" && l.Contact.Company == nil && s.Profiles[l.ProfileID] != nil && s.Profiles[l.ProfileID].Refold {
			out = append(out, l.CompanyKey)
		}
	}
	return out
}

// LinksByProfile points every link at its surviving profile and groups
// the links by it.
func (s *Snapshot) LinksByProfile() map[string][]*Link {
	out := map[string][]*Link{}
	for _, k := range slices.Sorted(maps.Keys(s.Links)) {
		l := s.Links[k]
		if l.ProfileID != "" {
			l.ProfileID = s.Resolve(l.ProfileID)
			out[l.ProfileID] = append(out[l.ProfileID], l)
		}
	}
	return out
}

// IsCompany reports whether r names a company record.
func IsCompany(r domain.ExternalRef) bool { return r.ObjectType == domain.ObjectCompany }

// IsOrder reports whether r names an order (or a deal).
func IsOrder(r domain.ExternalRef) bool {
	return r.ObjectType == domain.ObjectOrder || r.ObjectType == domain.ObjectDeal
}

// OrderDigest fingerprints an order and its profile, so an unchanged
// order is not written again.
func OrderDigest(o *domain.Order, profileID string) string {
	b, _ := json.Marshal(o)
	h := sha256.New()
	h.Write(b)
	h.Write([]byte{0})
	h.Write([]byte(profileID))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// MergedRef names the record id that a platform merged into into.
func MergedRef(into domain.ExternalRef, id string) domain.ExternalRef {
	return domain.ExternalRef{Platform: into.Platform, Account: into.Account, ObjectType: into.ObjectType, ID: id}
}

// GuestRef names the pseudo record of a guest buyer. Its id is a hash of
// the email, so that a privacy erasure leaves no address behind in keys.
func GuestRef(o *domain.Order, email string) domain.ExternalRef {
	h := sha256.Sum256([]byte(email))
	return domain.ExternalRef{Platform: o.Ref.Platform, Account: o.Ref.Account, ObjectType: GuestObject, ID: "sha256:" + hex.EncodeToString(h[:16])}
}

// alive reports whether id is a loaded profile that can take part in
// resolution (not erased, not merged away).
func (s *Snapshot) alive(id string) bool {
	p := s.Profiles[id]
	return p != nil && !p.Erased && !p.Gone
}

// markRefold marks a profile (after merges) for recomputation.
func (s *Snapshot) markRefold(id string) {
	if p := s.Profiles[s.Resolve(id)]; p != nil {
		p.Refold = true
	}
}

// Resolve follows merges to the surviving profile.
func (s *Snapshot) Resolve(id string) string {
	for i := 0; i < 64; i++ {
		next, ok := s.Redirect[id]
		if !ok {
			return id
		}
		id = next
	}
	return id
}

func (s *Snapshot) event(profileID, kind, refKey, detail string) {
	s.Events = append(s.Events, store.Event{At: s.Now, ProfileID: profileID, Kind: kind, RefKey: refKey, Detail: detail})
}

func (s *Snapshot) newProfile() string {
	id := s.NewID()
	s.Profiles[id] = &ProfileState{ID: id, RowCreated: s.Now, IsNew: true, Refold: true}
	s.Result.Created = append(s.Result.Created, id)
	return id
}

// mergeProfiles merges every candidate into the survivor and returns it.
func (s *Snapshot) mergeProfiles(cands []string, reason map[string][2]string) string {
	var cs []Candidate
	for _, id := range cands {
		p := s.Profiles[id]
		created := p.RowCreated
		cs = append(cs, Candidate{ID: id, CreatedAt: created})
	}
	surv := Survivor(cs).ID
	for _, id := range cands {
		if id == surv {
			continue
		}
		from := s.Profiles[id]
		from.Gone = true
		s.Redirect[id] = surv
		for _, l := range s.Links {
			if l.ProfileID == id {
				l.ProfileID = surv
				l.Dirty = true
			}
		}
		for e, p := range s.Emails {
			if p == id {
				s.Emails[e] = surv
			}
		}
		for _, w := range s.OrderWrites {
			if w.ProfileID == id {
				w.ProfileID = surv
			}
		}
		r := reason[id]
		s.Merges = append(s.Merges, store.Merge{From: id, Into: surv, At: s.Now, Reason: r[0], Evidence: r[1]})
		s.event(surv, "absorbed", "", "profile "+id+" merged in ("+r[0]+")")
		if s.Result.Merged == nil {
			s.Result.Merged = map[string]string{}
		}
		for k, v := range s.Result.Merged {
			if v == id {
				s.Result.Merged[k] = surv
			}
		}
		s.Result.Merged[id] = surv
	}
	s.Profiles[surv].Refold = true
	return surv
}

// FoldProfile recomputes a profile from its links (active ones feed it)
// and sets its NewData, Emails and UpdatedAt.
func (s *Snapshot) FoldProfile(p *ProfileState, links []*Link) error {
	var active []Record
	for _, l := range links {
		rec := Record{Key: l.Key, Contact: l.Contact, FieldTimes: l.Times}
		if l.Contact.Company != nil {
			co := *l.Contact.Company
			rec.Company = &co
		} else if c := s.Companies[l.CompanyKey]; c != nil && l.CompanyKey != "" {
			rec.Company = c
		}
		if l.State == store.LinkActive {
			active = append(active, rec)
		}
	}
	if len(active) == 0 && p.OldData != "" && !p.Erased {
		// Every record is gone from its platform: keep the last known
		// state (and its emails, so the person is recognised if they
		// come back) with orders and history attached.
		var old domain.Profile
		if err := json.Unmarshal([]byte(p.OldData), &old); err != nil {
			return fmt.Errorf("decoding profile %s: %w", p.ID, err)
		}
		p.Emails, p.UpdatedAt, p.NewData = old.Emails, old.UpdatedAt, p.OldData
		return nil
	}
	prof := s.Resolver.Fold(active)
	prof.ID = p.ID
	if prof.CreatedAt.IsZero() {
		prof.CreatedAt = p.RowCreated.UTC()
	}
	p.Emails = prof.Emails
	p.UpdatedAt = prof.UpdatedAt
	b, err := json.Marshal(prof)
	if err != nil {
		return fmt.Errorf("encoding profile %s: %w", p.ID, err)
	}
	p.NewData = string(b)
	return nil
}
