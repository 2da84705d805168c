package marketofake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
)

// DeleteLead is the activity type Marketo records for a deleted lead, as
// Get Deleted Leads (/rest/v1/activities/deletedleads.json) returns it.
const DeleteLead = 37

// deleteLeads is Delete Leads (POST /rest/v1/leads/delete.json, operation
// deleteLeadsUsingPOST): the ids come as the body's input[{id}] or, with
// an empty body, as id query parameters; at most 300 a call ("Leads",
// Delete). Each id has its own result: status "deleted", or "skipped"
// with 1004 (Lead not found, "Error Codes") for an id the instance does
// not have, a lead deleted before included. A deleted lead leaves its
// static lists, its activities go with it, and a Delete Lead activity
// (type 37) is recorded.
func (f *Fake) deleteLeads(r *http.Request, body []byte) envelope {
	var req struct {
		Input []struct {
			ID *int `json:"id"`
		} `json:"input"`
	}
	var ids []int
	if len(body) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return callError("609", "Invalid JSON")
		}
		for _, in := range req.Input {
			if in.ID == nil {
				return callError("1003", "Value for required field 'id' not specified")
			}
			ids = append(ids, *in.ID)
		}
	} else {
		for _, s := range splitList(r.URL.Query()["id"]) {
			n, err := strconv.Atoi(s)
			if err != nil {
				return callError("1003", "Invalid id")
			}
			ids = append(ids, n)
		}
	}
	if len(ids) == 0 {
		return callError("1003", "input is required")
	}
	if len(ids) > MaxBatch {
		return callError("1003", "Batch size exceeds 300")
	}
	f.stats.Records["POST /rest/v1/leads/delete.json"] += len(ids)
	out := make([]recordResult, 0, len(ids))
	for _, id := range ids {
		if f.byID[id] == nil {
			out = append(out, recordResult{ID: id, Status: "skipped", Reasons: []Reason{{Code: "1004", Message: "Lead not found"}}})
			continue
		}
		f.remove(id)
		out = append(out, recordResult{ID: id, Status: "deleted"})
	}
	return envelope{Result: out}
}

// remove deletes lead id with its list memberships and activities, and
// records its Delete Lead activity.
func (f *Fake) remove(id int) {
	delete(f.byID, id)
	f.leads = slices.DeleteFunc(f.leads, func(l *Lead) bool { return l.ID == id })
	for _, l := range f.lists {
		delete(l.Members, id)
	}
	f.acts = slices.DeleteFunc(f.acts, func(a Activity) bool { return a.LeadID == id })
	f.addActivity(id, DeleteLead, f.tick(), nil)
}

// Lead returns a copy of lead id; ok is false when the instance has no
// such lead (never had, or deleted).
func (f *Fake) Lead(id int) (Lead, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.byID[id]
	if l == nil {
		return Lead{}, false
	}
	c := *l
	c.Fields = make(map[string]string, len(l.Fields))
	for k, v := range l.Fields {
		c.Fields[k] = v
	}
	return c, true
}
