package hubspotfake

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// upsertResult is SimplePublicUpsertObject: a record with whether the
// upsert created it.
type upsertResult struct {
	publicObject
	New bool `json:"new"`
}

// uniqueProps are the properties HubSpot lets a contacts upsert match on
// (idProperty): the record id and email, which HubSpot keeps unique per
// contact ("Create or update a batch of contacts", crm/v3 contacts API;
// the spec's SimplePublicObjectBatchInputUpsert.idProperty is "the name
// of a property whose values are unique for this object"). Other objects
// match only on their id here.
func uniqueProps(t objectType) []string {
	if t.Name == "contacts" {
		return []string{"hs_object_id", "email"}
	}
	return []string{"hs_object_id"}
}

// handleUpsert serves POST /crm/v3/objects/{type}/batch/upsert: each input
// updates the live record whose idProperty holds its id, or creates one
// with that value. As on HubSpot, the whole batch is refused with a 400
// VALIDATION_ERROR when an input names a property that cannot identify a
// record, or when two inputs name the same record (batch endpoints answer
// "Duplicate IDs found in batch input"), and an unknown or invalid
// property value fails the batch like batch/update. The answer is 200
// with every record and its `new` flag.
func (f *Fake) handleUpsert(w http.ResponseWriter, t objectType, inputs []batchInput, started time.Time) {
	all := make([]map[string]string, len(inputs))
	seen := map[string]bool{}
	var dups []string
	for i, x := range inputs {
		if x.IDProperty == "" {
			x.IDProperty = "hs_object_id"
		}
		if !containsStr(uniqueProps(t), x.IDProperty) {
			badRequest(w, fmt.Sprintf("Property %q is not a unique identifier of %s objects and cannot be used as idProperty", x.IDProperty, t.Singular))
			return
		}
		if x.ID == "" {
			badRequest(w, fmt.Sprintf("Input %d has no id: the value of %s is required", i, x.IDProperty))
			return
		}
		k := x.IDProperty + "\x00" + strings.ToLower(x.ID)
		if seen[k] {
			dups = append(dups, x.ID)
		}
		seen[k] = true
		all[i] = x.Properties
	}
	if len(dups) > 0 {
		sort.Strings(dups)
		badRequest(w, fmt.Sprintf("Duplicate IDs found in batch input: [%s]. IDs must be unique", strings.Join(dups, ", ")))
		return
	}
	if msg := f.validatePropsLocked(t, all); msg != "" {
		badRequest(w, msg)
		return
	}
	res := make([]upsertResult, 0, len(inputs))
	var failed []string
	for _, x := range inputs {
		if cat := f.failIDs[x.ID]; cat != "" {
			failed = append(failed, x.ID)
			continue
		}
		idProp := x.IDProperty
		if idProp == "" {
			idProp = "hs_object_id"
		}
		rec := f.findLocked(t, x.ID, idProp, false)
		isNew := rec == nil
		if isNew {
			if idProp == "hs_object_id" {
				failed = append(failed, x.ID) // ids are HubSpot's to give
				continue
			}
			props := map[string]string{idProp: x.ID}
			for k, v := range x.Properties {
				props[k] = v
			}
			id := f.createLocked(t.Name, Object{Properties: props})
			n, _ := strconv.ParseInt(id, 10, 64)
			rec = f.objects[t.Name].byID[n]
			f.eventLocked(t, "creation", n, nil)
			f.upserts.Created++
		} else {
			f.writeLocked(t, rec, x.Properties, "INTEGRATION")
			f.upserts.Updated++
		}
		shown := keys(x.Properties)
		if !containsStr(shown, idProp) {
			shown = append(shown, idProp)
		}
		res = append(res, upsertResult{publicObject: f.render(t, rec, shown, nil), New: isNew})
	}
	b := struct {
		batchResponse
		Results []upsertResult `json:"results"`
	}{batchResponse: batchResponse{Status: "COMPLETE", RequestedAt: formatTime(started), StartedAt: formatTime(started), CompletedAt: formatTime(f.now())}, Results: res}
	status := 200
	if len(failed) > 0 {
		status = 207
		b.NumErrors = len(failed)
		b.Errors = []standardError{{Status: "error", Category: "OBJECT_NOT_FOUND",
			Message: fmt.Sprintf("Could not upsert some %s objects; check that ids are valid.", t.Singular),
			Context: map[string][]string{"ids": failed}, Errors: []errorDetail{}, Links: map[string]string{}}}
	}
	writeJSON(w, status, b)
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// UpsertStats counts what batch upserts did: records created and records
// found and updated.
type UpsertStats struct {
	Created, Updated int
}

// Upserts returns what batch upserts have done since the fake started.
func (f *Fake) Upserts() UpsertStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.upserts
}

// FindByProperty returns the ids of the live records of a type whose
// property holds value (compared as HubSpot compares emails, ignoring
// case), in id order: more than one contact for an email is a duplicate.
func (f *Fake) FindByProperty(objectType, prop, value string) []string {
	t, ok := lookupType(objectType)
	if !ok {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.objects[t.Name]
	var out []string
	for _, id := range st.ids {
		rec := st.byID[id]
		if rec != nil && !rec.archived && rec.mergedInto == 0 && strings.EqualFold(rec.props[prop], value) {
			out = append(out, strconv.FormatInt(id, 10))
		}
	}
	return out
}
