package klaviyofake

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// List is one list as the fake holds it.
type List struct {
	ID      string
	Name    string
	Members []string // profile ids in the order they joined
	Created time.Time
}

// Members returns the profile ids on the list with id.
func (f *Fake) Members(listID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.list(listID); l != nil {
		return slices.Clone(l.Members)
	}
	return nil
}

// ListsOf returns the ids of the lists the profile is on.
func (f *Fake) ListsOf(profileID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.lists {
		if slices.Contains(l.Members, profileID) {
			out = append(out, l.ID)
		}
	}
	return out
}

// ListNamed returns the id of the list called name, or "".
func (f *Fake) ListNamed(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.lists {
		if l.Name == name {
			return l.ID
		}
	}
	return ""
}

// ListsNamed counts the lists called name (Klaviyo allows several).
func (f *Fake) ListsNamed(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.lists {
		if l.Name == name {
			n++
		}
	}
	return n
}

// AddToList puts profiles on a list by hand (creating the list), as
// someone in Klaviyo's app would; it returns the list id.
func (f *Fake) AddToList(name string, ids ...string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var l *List
	for _, x := range f.lists {
		if x.Name == name {
			l = x
		}
	}
	if l == nil {
		l = &List{ID: f.newID(6), Name: name, Created: f.tick()}
		f.lists = append(f.lists, l)
	}
	for _, id := range ids {
		if !slices.Contains(l.Members, id) {
			l.Members = append(l.Members, id)
		}
	}
	return l.ID
}

func (f *Fake) list(id string) *List {
	for _, l := range f.lists {
		if l.ID == id {
			return l
		}
	}
	return nil
}

func listJSON(l *List) map[string]any {
	return map[string]any{"type": "list", "id": l.ID, "attributes": map[string]any{
		"name": l.Name, "created": l.Created.Format(time.RFC3339), "updated": l.Created.Format(time.RFC3339), "opt_in_process": "single_opt_in"}}
}

func (f *Fake) getLists(w http.ResponseWriter, r *http.Request) {
	cs, ok := checkFilter(w, r, map[string][]string{"name": {"any", "equals"}, "id": {"any", "equals"}})
	if !ok {
		return
	}
	f.mu.Lock()
	var hits []*List
	for _, l := range f.lists {
		keep := true
		for _, c := range cs {
			switch c.field {
			case "name":
				keep = keep && c.matchString(l.Name)
			case "id":
				keep = keep && c.matchString(l.ID)
			}
		}
		if keep {
			hits = append(hits, l)
		}
	}
	// get_lists serves at most 10 a page (page[size] maximum 10).
	got, links, ok := page(w, r, hits, 10, 10)
	data := make([]any, len(got))
	for i, l := range got {
		data[i] = listJSON(l)
	}
	f.mu.Unlock()
	if ok {
		writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
	}
}

func (f *Fake) createList(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Data struct {
			Type       string `json:"type"`
			Attributes struct {
				Name string `json:"name"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if !decode(w, r, 100_000, &body) {
		return
	}
	if body.Data.Type != "list" || body.Data.Attributes.Name == "" {
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.", "A list needs type list and a name.", "/data")
		return
	}
	f.mu.Lock()
	// Klaviyo allows several lists of one name; each create makes a new one.
	l := &List{ID: f.newID(6), Name: body.Data.Attributes.Name, Created: f.tick()}
	f.lists = append(f.lists, l)
	out := listJSON(l)
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"data": out})
}

// membership reads a ListMembersAddQuery or ListMembersDeleteQuery and
// checks it: at most 1000 profiles, each of type profile and known. It
// answers the problem itself and returns ok false then.
func (f *Fake) membership(w http.ResponseWriter, r *http.Request) (*List, []string, bool) {
	var body struct {
		Data []struct {
			Type string `json:"type"`
			ID   string `json:"id"`
		} `json:"data"`
	}
	if !decode(w, r, 5_000_000, &body) {
		return nil, nil, false
	}
	if len(body.Data) > MaxListBatch {
		apiError(w, http.StatusBadRequest, "invalid", "Invalid input.",
			fmt.Sprintf("At most %d profiles may be given per call; got %d.", MaxListBatch, len(body.Data)), "/data")
		return nil, nil, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.list(r.PathValue("id"))
	if l == nil {
		apiError(w, http.StatusNotFound, "not_found", "Not found.", "A list with id "+r.PathValue("id")+" does not exist.", "")
		return nil, nil, false
	}
	var errs []map[string]any
	ids := make([]string, 0, len(body.Data))
	for i, d := range body.Data {
		switch {
		case d.Type != "profile":
			errs = append(errs, map[string]any{"id": newUUID(), "status": 400, "code": "invalid", "title": "Invalid input.",
				"detail": fmt.Sprintf("type must be profile, not %q", d.Type), "source": map[string]string{"pointer": fmt.Sprintf("/data/%d/type", i)}})
		case f.byID[d.ID] == nil || f.reject[d.ID]:
			errs = append(errs, map[string]any{"id": newUUID(), "status": 400, "code": "invalid", "title": "Invalid input.",
				"detail": "Invalid profile id " + d.ID + ".", "source": map[string]string{"pointer": fmt.Sprintf("/data/%d/id", i)}})
		}
		ids = append(ids, d.ID)
	}
	if len(errs) > 0 {
		// JSON:API: a request that fails is not applied in part; each
		// error points at the member of data it is about.
		apiErrors(w, http.StatusBadRequest, errs)
		return nil, nil, false
	}
	return l, ids, true
}

func (f *Fake) addToList(w http.ResponseWriter, r *http.Request) {
	l, ids, ok := f.membership(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	for _, id := range ids {
		if !slices.Contains(l.Members, id) {
			l.Members = append(l.Members, id)
		}
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) removeFromList(w http.ResponseWriter, r *http.Request) {
	l, ids, ok := f.membership(w, r)
	if !ok {
		return
	}
	f.mu.Lock()
	l.Members = slices.DeleteFunc(l.Members, func(id string) bool { return slices.Contains(ids, id) })
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) listMembers(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	l := f.list(r.PathValue("id"))
	var members []string
	if l != nil {
		members = slices.Clone(l.Members)
	}
	f.mu.Unlock()
	if l == nil {
		apiError(w, http.StatusNotFound, "not_found", "Not found.", "A list with id "+r.PathValue("id")+" does not exist.", "")
		return
	}
	got, links, ok := page(w, r, members, 20, 100)
	if !ok {
		return
	}
	data := make([]any, len(got))
	for i, id := range got {
		data[i] = map[string]any{"type": "profile", "id": id}
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "links": links})
}
