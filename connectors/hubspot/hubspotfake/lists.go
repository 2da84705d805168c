package hubspotfake

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

type list struct {
	id             string
	name           string
	objectTypeID   string
	processingType string
	version        int
	createdAt      time.Time
	updatedAt      time.Time
	members        map[int64]time.Time
}

func (l *list) render() map[string]any {
	return map[string]any{
		"listId": l.id, "listVersion": l.version, "name": l.name, "objectTypeId": l.objectTypeID,
		"processingStatus": "COMPLETE", "processingType": l.processingType,
		"createdAt": formatTime(l.createdAt), "updatedAt": formatTime(l.updatedAt), "size": len(l.members),
	}
}

func (f *Fake) listByNameLocked(otid, name string) *list {
	for _, l := range f.lists {
		if l.objectTypeID == otid && strings.EqualFold(l.name, name) {
			return l
		}
	}
	return nil
}

// CreateList creates a list directly (for example a DYNAMIC one a user
// made in HubSpot) and returns its id.
func (f *Fake) CreateList(name, processingType string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.createListLocked(name, "0-1", processingType).id
}

func (f *Fake) createListLocked(name, otid, pt string) *list {
	f.nextLst++
	now := f.now()
	l := &list{id: strconv.FormatInt(f.nextLst, 10), name: name, objectTypeID: otid, processingType: pt, version: 1,
		createdAt: now, updatedAt: now, members: map[int64]time.Time{}}
	f.lists[l.id] = l
	return l
}

// ListMembers returns a list's member record ids in ascending order.
func (f *Fake) ListMembers(listID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.lists[listID]
	if l == nil {
		return nil
	}
	ids := make([]int64, 0, len(l.members))
	for id := range l.members {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out
}

// ListID returns the id of the contact list with this name.
func (f *Fake) ListID(name string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.listByNameLocked("0-1", name); l != nil {
		return l.id, true
	}
	return "", false
}

// AddToList adds members directly, as a user would by hand.
func (f *Fake) AddToList(listID string, ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l := f.lists[listID]; l != nil {
		for _, id := range ids {
			n, _ := strconv.ParseInt(id, 10, 64)
			l.members[n] = f.now()
		}
	}
}

func (f *Fake) handleListCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name           string `json:"name"`
		ObjectTypeID   string `json:"objectTypeId"`
		ProcessingType string `json:"processingType"`
	}
	if !decodeBody(w, r, &in) {
		return
	}
	if strings.TrimSpace(in.Name) == "" {
		badRequest(w, "name is required")
		return
	}
	if _, ok := lookupType(in.ObjectTypeID); !ok || !strings.Contains(in.ObjectTypeID, "-") {
		badRequest(w, fmt.Sprintf("objectTypeId %q is not a valid object type id", in.ObjectTypeID))
		return
	}
	switch in.ProcessingType {
	case "MANUAL", "SNAPSHOT", "DYNAMIC":
	default:
		badRequest(w, fmt.Sprintf("processingType %q must be one of MANUAL, SNAPSHOT, DYNAMIC", in.ProcessingType))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.listByNameLocked(in.ObjectTypeID, in.Name) != nil {
		writeJSON(w, http.StatusConflict, apiError{Status: "error", Message: fmt.Sprintf("A list named '%s' already exists.", in.Name),
			CorrelationID: newID(), Category: "VALIDATION_ERROR", SubCategory: "ILS.DUPLICATE_LIST_NAMES"})
		return
	}
	l := f.createListLocked(in.Name, in.ObjectTypeID, in.ProcessingType)
	writeJSON(w, 200, map[string]any{"list": l.render()})
}

func listNotFound(w http.ResponseWriter, what string) {
	writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("List %s does not exist.", what))
}

func (f *Fake) handleListByName(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	l := f.listByNameLocked(r.PathValue("otid"), r.PathValue("name"))
	var out map[string]any
	if l != nil {
		out = l.render()
	}
	f.mu.Unlock()
	if l == nil {
		listNotFound(w, "named "+r.PathValue("name"))
		return
	}
	writeJSON(w, 200, map[string]any{"list": out})
}

func (f *Fake) handleListGet(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	l := f.lists[r.PathValue("id")]
	var out map[string]any
	if l != nil {
		out = l.render()
	}
	f.mu.Unlock()
	if l == nil {
		listNotFound(w, r.PathValue("id"))
		return
	}
	writeJSON(w, 200, map[string]any{"list": out})
}

func (f *Fake) handleMemberships(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			badRequest(w, "limit must be a positive number")
			return
		}
		limit = min(n, MembershipsPageMax)
	}
	var after int64
	if v := q.Get("after"); v != "" {
		n, ok := decodeAfter(v)
		if !ok {
			badRequest(w, "Invalid paging cursor: "+v)
			return
		}
		after = n
	}
	members := f.ListMembers(r.PathValue("id"))
	f.mu.Lock()
	l := f.lists[r.PathValue("id")]
	type member struct {
		RecordID            string `json:"recordId"`
		MembershipTimestamp string `json:"membershipTimestamp"`
	}
	var res []member
	more := false
	for _, id := range members {
		n, _ := strconv.ParseInt(id, 10, 64)
		if n <= after {
			continue
		}
		if len(res) == limit {
			more = true
			break
		}
		res = append(res, member{id, formatTime(l.members[n])})
	}
	f.mu.Unlock()
	if l == nil {
		listNotFound(w, r.PathValue("id"))
		return
	}
	body := map[string]any{"results": nonNil(res)}
	if more {
		n, _ := strconv.ParseInt(res[len(res)-1].RecordID, 10, 64)
		body["paging"] = map[string]any{"next": map[string]string{"after": encodeAfter(n)}}
	}
	writeJSON(w, 200, body)
}

func (f *Fake) handleMembershipChange(w http.ResponseWriter, r *http.Request) {
	var add, remove []string
	switch r.PathValue("op") {
	case "add":
		if !decodeBody(w, r, &add) {
			return
		}
	case "remove":
		if !decodeBody(w, r, &remove) {
			return
		}
	case "add-and-remove":
		var in struct {
			RecordIDsToAdd    []string `json:"recordIdsToAdd"`
			RecordIDsToRemove []string `json:"recordIdsToRemove"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		add, remove = in.RecordIDsToAdd, in.RecordIDsToRemove
	default:
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.lists[r.PathValue("id")]
	if l == nil {
		listNotFound(w, r.PathValue("id"))
		return
	}
	if l.processingType != "MANUAL" && l.processingType != "SNAPSHOT" {
		badRequest(w, fmt.Sprintf("List %s is a %s list; memberships can only be changed on MANUAL or SNAPSHOT lists.", l.id, l.processingType))
		return
	}
	t, _ := lookupType(l.objectTypeID)
	out := map[string][]string{"recordsIdsAdded": {}, "recordIdsRemoved": {}, "recordIdsMissing": {}}
	now := f.now()
	for _, id := range add {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || f.liveLocked(t.Name, n) == nil {
			out["recordIdsMissing"] = append(out["recordIdsMissing"], id)
			continue
		}
		if _, ok := l.members[n]; !ok {
			l.members[n] = now
			out["recordsIdsAdded"] = append(out["recordsIdsAdded"], id)
		}
	}
	for _, id := range remove {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || f.objects[t.Name].byID[n] == nil {
			out["recordIdsMissing"] = append(out["recordIdsMissing"], id)
			continue
		}
		if _, ok := l.members[n]; ok {
			delete(l.members, n)
			out["recordIdsRemoved"] = append(out["recordIdsRemoved"], id)
		}
	}
	l.updatedAt = now
	writeJSON(w, 200, out)
}
