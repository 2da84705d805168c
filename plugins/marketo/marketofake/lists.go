package marketofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// List is one static list.
type List struct {
	ID      int
	Name    string
	Members map[int]bool
}

// ListsOf returns the ids (as strings) of the static lists a lead is in.
func (f *Fake) ListsOf(leadID int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.lists {
		if l.Members[leadID] {
			out = append(out, strconv.Itoa(l.ID))
		}
	}
	return out
}

// Members returns the lead ids in list id, sorted.
func (f *Fake) Members(id int) []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, l := range f.lists {
		if l.ID == id {
			for m := range l.Members {
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (l *List) asset() map[string]any {
	return map[string]any{"id": l.ID, "name": l.Name, "folder": map[string]any{"id": 1, "type": "Folder"},
		"createdAt": time.Now().UTC().Format(time.RFC3339), "computedUrl": fmt.Sprintf("#ST%dA1", l.ID)}
}

// listByName is the Asset API's Get Static List by Name; none found is a
// success with a warning and no result.
func (f *Fake) listByName(r *http.Request, _ []byte) envelope {
	name := r.URL.Query().Get("name")
	for _, l := range f.lists {
		if l.Name == name {
			return envelope{Result: []any{l.asset()}}
		}
	}
	return envelope{Warnings: []string{"No assets found for the given search criteria."}}
}

// createList is the Asset API's Create Static List: a form-encoded body
// with name and folder (both required); names are unique (709).
func (f *Fake) createList(_ *http.Request, body []byte) envelope {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("name") == "" || form.Get("folder") == "" {
		return callError("701", "name and folder cannot be blank")
	}
	for _, l := range f.lists {
		if l.Name == form.Get("name") {
			return callError("709", "Static list with the same name already exists")
		}
	}
	l := &List{ID: len(f.lists) + 2001, Name: form.Get("name"), Members: map[int]bool{}}
	f.lists = append(f.lists, l)
	return envelope{Result: []any{l.asset()}}
}

// membership reads the lead ids of a list call (body input, else the id
// query parameter), at most 300.
func (f *Fake) membership(r *http.Request, body []byte) (*List, []int, *envelope) {
	id, _ := strconv.Atoi(r.PathValue("listId"))
	var l *List
	for _, c := range f.lists {
		if c.ID == id {
			l = c
		}
	}
	if l == nil {
		e := callError("1013", "Static list not found")
		return nil, nil, &e
	}
	var req struct {
		Input []struct {
			ID int `json:"id"`
		} `json:"input"`
	}
	var ids []int
	if len(body) > 0 && json.Unmarshal(body, &req) == nil && len(req.Input) > 0 {
		for _, in := range req.Input {
			ids = append(ids, in.ID)
		}
	} else {
		for _, s := range r.URL.Query()["id"] {
			n, err := strconv.Atoi(s)
			if err != nil {
				e := callError("1003", "Invalid id")
				return nil, nil, &e
			}
			ids = append(ids, n)
		}
	}
	if len(ids) > MaxBatch {
		e := callError("1003", "Too many ids: at most 300")
		return nil, nil, &e
	}
	f.stats.Records[r.Method+" /rest/v1/lists/{listId}/leads.json"] += len(ids)
	return l, ids, nil
}

// addToList is Add to List: leads not found are skipped with 1004.
func (f *Fake) addToList(r *http.Request, body []byte) envelope {
	l, ids, e := f.membership(r, body)
	if e != nil {
		return *e
	}
	out := []recordResult{}
	for _, id := range ids {
		if f.byID[id] == nil {
			out = append(out, recordResult{ID: id, Status: "skipped", Reasons: []Reason{{Code: "1004", Message: "Lead not found"}}})
			continue
		}
		l.Members[id] = true
		out = append(out, recordResult{ID: id, Status: "added"})
	}
	return envelope{Result: out}
}

// removeFromList is Remove from List: leads not in the list are skipped
// with 1015.
func (f *Fake) removeFromList(r *http.Request, body []byte) envelope {
	l, ids, e := f.membership(r, body)
	if e != nil {
		return *e
	}
	out := []recordResult{}
	for _, id := range ids {
		switch {
		case f.byID[id] == nil:
			out = append(out, recordResult{ID: id, Status: "skipped", Reasons: []Reason{{Code: "1004", Message: "Lead not found"}}})
		case !l.Members[id]:
			out = append(out, recordResult{ID: id, Status: "skipped", Reasons: []Reason{{Code: "1015", Message: "Lead not in list"}}})
		default:
			delete(l.Members, id)
			out = append(out, recordResult{ID: id, Status: "removed"})
		}
	}
	return envelope{Result: out}
}
