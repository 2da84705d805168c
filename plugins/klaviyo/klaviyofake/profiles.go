package klaviyofake

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Consent values of subscriptions.email.marketing.consent ("Collect email
// and SMS consent via API": a profile is SUBSCRIBED, NEVER_SUBSCRIBED or
// UNSUBSCRIBED).
const (
	Subscribed      = "SUBSCRIBED"
	NeverSubscribed = "NEVER_SUBSCRIBED"
	Unsubscribed    = "UNSUBSCRIBED"
)

// Profile is one profile as the fake holds it.
type Profile struct {
	ID         string
	Email      string
	FirstName  string
	LastName   string
	Properties map[string]any
	Consent    string
	ConsentAt  time.Time
	Created    time.Time
	Updated    time.Time
}

// Seed adds n profiles that accept email marketing, each updated a second
// after the last.
func (f *Fake) Seed(n int) []*Profile {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*Profile, n)
	for i := range out {
		t := f.tick()
		k := len(f.profiles) + 1
		p := &Profile{ID: f.newID(26), Email: fmt.Sprintf("person%d@example.com", k), FirstName: "Person",
			LastName: strconv.Itoa(k), Properties: map[string]any{}, Consent: Subscribed, ConsentAt: t, Created: t, Updated: t}
		f.profiles = append(f.profiles, p)
		f.byID[p.ID] = p
		out[i] = p
	}
	return out
}

// AddProfile adds a profile with the given address, names and email
// marketing consent (Subscribed, NeverSubscribed or Unsubscribed),
// created and updated at at.
func (f *Fake) AddProfile(email, first, last, consent string, at time.Time) *Profile {
	f.mu.Lock()
	defer f.mu.Unlock()
	at = at.UTC().Truncate(time.Second)
	p := &Profile{ID: f.newID(26), Email: email, FirstName: first, LastName: last, Properties: map[string]any{},
		Consent: consent, ConsentAt: at, Created: at, Updated: at}
	f.profiles = append(f.profiles, p)
	f.byID[p.ID] = p
	if at.After(f.clock) {
		f.clock = at
	}
	return p
}

// SetConsent sets a profile's email marketing consent (and updates it).
func (f *Fake) SetConsent(id, consent string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.byID[id]; p != nil {
		t := f.tick()
		p.Consent, p.ConsentAt, p.Updated = consent, t, t
	}
}

// SetProperty sets a custom property by hand, as someone in Klaviyo's app
// would.
func (f *Fake) SetProperty(id, name string, v any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p := f.byID[id]; p != nil {
		p.Properties[name] = v
		p.Updated = f.tick()
	}
}

// Properties returns a copy of a profile's custom properties.
func (f *Fake) Properties(id string) (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.byID[id]
	if p == nil {
		return nil, fmt.Errorf("no profile %s", id)
	}
	out := map[string]any{}
	for k, v := range p.Properties {
		out[k] = v
	}
	return out, nil
}

// profileJSON renders p as a JSON:API resource.
func profileJSON(p *Profile, subscriptions bool) map[string]any {
	attrs := map[string]any{"email": p.Email, "first_name": p.FirstName, "last_name": p.LastName,
		"properties": p.Properties, "created": p.Created.Format(time.RFC3339), "updated": p.Updated.Format(time.RFC3339)}
	if subscriptions {
		attrs["subscriptions"] = map[string]any{"email": map[string]any{"marketing": map[string]any{
			"can_receive_email_marketing": p.Consent == Subscribed, "consent": p.Consent,
			"consent_timestamp": p.ConsentAt.Format(time.RFC3339), "last_updated": p.ConsentAt.Format(time.RFC3339)}}}
	}
	return map[string]any{"type": "profile", "id": p.ID, "attributes": attrs}
}

// profileFilters are the fields and operators GET /api/profiles allows
// (the subset the fake implements of its filter parameter's list).
func profileFilters() map[string][]string {
	return map[string][]string{
		"id": {"any", "equals"}, "email": {"any", "equals"},
		"updated": {"greater-than", "less-than"}, "created": {"greater-than", "less-than"},
	}
}

func wantsSubscriptions(r *http.Request) bool {
	for _, v := range r.URL.Query()["additional-fields[profile]"] {
		if slices.Contains(strings.Split(v, ","), "subscriptions") {
			return true
		}
	}
	return false
}

func (f *Fake) getProfiles(w http.ResponseWriter, r *http.Request) {
	cs, ok := checkFilter(w, r, profileFilters())
	if !ok {
		return
	}
	sortBy := r.URL.Query().Get("sort")
	if sortBy != "" && !slices.Contains([]string{"created", "-created", "email", "-email", "id", "-id", "updated", "-updated"}, sortBy) {
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", "Invalid sort field "+sortBy+".", "")
		return
	}
	f.mu.Lock()
	var hits []*Profile
	for _, p := range f.profiles {
		if matchProfile(p, cs) {
			hits = append(hits, p)
		}
	}
	key := func(p *Profile) string {
		switch strings.TrimPrefix(sortBy, "-") {
		case "created":
			return p.Created.Format(time.RFC3339Nano) + p.ID
		case "updated":
			return p.Updated.Format(time.RFC3339Nano) + p.ID
		case "email":
			return p.Email
		default:
			return p.ID
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if strings.HasPrefix(sortBy, "-") {
			return key(hits[i]) > key(hits[j])
		}
		return key(hits[i]) < key(hits[j])
	})
	got, links, ok := page(w, r, hits, 20, 100)
	if !ok {
		f.mu.Unlock()
		return
	}
	data := make([]any, len(got))
	for i, p := range got {
		data[i] = profileJSON(p, wantsSubscriptions(r))
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}

func matchProfile(p *Profile, cs []cond) bool {
	for _, c := range cs {
		switch c.field {
		case "id":
			if !c.matchString(p.ID) {
				return false
			}
		case "email":
			if !c.matchString(p.Email) {
				return false
			}
		case "updated":
			if !c.matchTime(p.Updated) {
				return false
			}
		case "created":
			if !c.matchTime(p.Created) {
				return false
			}
		}
	}
	return true
}

func (f *Fake) getProfile(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	p := f.byID[r.PathValue("id")]
	var body map[string]any
	if p != nil {
		body = map[string]any{"data": profileJSON(p, wantsSubscriptions(r))}
	}
	f.mu.Unlock()
	if p == nil {
		apiError(w, http.StatusNotFound, "not_found", "Not found.", "A profile with id "+r.PathValue("id")+" does not exist.", "")
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// upsert is a ProfileUpsertQueryResourceObject.
type upsert struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Email      string         `json:"email"`
		FirstName  string         `json:"first_name"`
		LastName   string         `json:"last_name"`
		Properties map[string]any `json:"properties"`
	} `json:"attributes"`
	Meta struct {
		PatchProperties struct {
			Unset any `json:"unset"`
		} `json:"patch_properties"`
	} `json:"meta"`
}

// apply upserts u: by id when given, else by email. It returns the
// profile, whether it was created, and a problem ("" when none). Callers
// hold mu.
func (f *Fake) apply(u upsert) (*Profile, bool, string) {
	if u.Type != "profile" {
		return nil, false, fmt.Sprintf("type must be profile, not %q", u.Type)
	}
	var p *Profile
	switch {
	case u.ID != "":
		p = f.byID[u.ID]
		if p == nil {
			return nil, false, "A profile with id " + u.ID + " does not exist."
		}
	case u.Attributes.Email != "":
		for _, q := range f.profiles {
			if strings.EqualFold(q.Email, u.Attributes.Email) {
				p = q
			}
		}
	default:
		return nil, false, "A profile needs an id or an identifier (email, phone_number or external_id)."
	}
	if p != nil && f.reject[p.ID] {
		return nil, false, "The profile " + p.ID + " cannot be updated."
	}
	created := p == nil
	t := f.tick()
	if created {
		p = &Profile{ID: f.newID(26), Email: u.Attributes.Email, Properties: map[string]any{}, Consent: NeverSubscribed, Created: t}
		f.profiles = append(f.profiles, p)
		f.byID[p.ID] = p
	}
	if u.Attributes.FirstName != "" {
		p.FirstName = u.Attributes.FirstName
	}
	if u.Attributes.LastName != "" {
		p.LastName = u.Attributes.LastName
	}
	for k, v := range u.Attributes.Properties {
		p.Properties[k] = v
	}
	switch un := u.Meta.PatchProperties.Unset.(type) {
	case string:
		delete(p.Properties, un)
	case []any:
		for _, k := range un {
			if s, ok := k.(string); ok {
				delete(p.Properties, s)
			}
		}
	}
	p.Updated = t
	return p, created, ""
}

func (f *Fake) importProfile(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data upsert `json:"data"`
	}
	// "The maximum allowed payload size is 100KB" (create_or_update_profile).
	if !decode(w, r, 100_000, &body) {
		return
	}
	f.mu.Lock()
	p, created, problem := f.apply(body.Data)
	var out map[string]any
	if p != nil {
		out = map[string]any{"data": profileJSON(p, false)}
	}
	f.mu.Unlock()
	switch {
	case problem != "":
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", problem, "/data")
	case created:
		writeJSON(w, http.StatusCreated, out)
	default:
		writeJSON(w, http.StatusOK, out)
	}
}

// deleteProfile serves request_profile_deletion: exactly one identifier
// (id, email or phone_number); every profile it matches is deleted, with
// its list memberships and events. Klaviyo does this asynchronously and
// answers 202 at once; the fake deletes before answering.
func (f *Fake) deleteProfile(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data struct {
			Type       string `json:"type"`
			Attributes struct {
				Profile struct {
					Data struct {
						Type       string `json:"type"`
						ID         string `json:"id"`
						Attributes struct {
							Email       string `json:"email"`
							PhoneNumber string `json:"phone_number"`
						} `json:"attributes"`
					} `json:"data"`
				} `json:"profile"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if !decode(w, r, 100_000, &body) {
		return
	}
	pd := body.Data.Attributes.Profile.Data
	n := 0
	for _, v := range []string{pd.ID, pd.Attributes.Email, pd.Attributes.PhoneNumber} {
		if v != "" {
			n++
		}
	}
	if body.Data.Type != "data-privacy-deletion-job" || pd.Type != "profile" || n != 1 {
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", "Give exactly one of id, email or phone_number.", "/data/attributes/profile")
		return
	}
	f.mu.Lock()
	f.profiles = slices.DeleteFunc(f.profiles, func(p *Profile) bool {
		gone := (pd.ID != "" && p.ID == pd.ID) || (pd.Attributes.Email != "" && strings.EqualFold(p.Email, pd.Attributes.Email))
		if gone {
			delete(f.byID, p.ID)
			for _, l := range f.lists {
				l.Members = slices.DeleteFunc(l.Members, func(id string) bool { return id == p.ID })
			}
			f.events = slices.DeleteFunc(f.events, func(e Event) bool { return e.ProfileID == p.ID })
		}
		return gone
	})
	f.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}
