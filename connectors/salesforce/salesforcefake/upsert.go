package salesforcefake

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// upsertState is what upsert by external id needs beyond the records:
// which fields are external ids, which objects block duplicates, and
// counters for tests.
type upsertState struct {
	externalIDs map[string]map[string]bool // object → external id field
	blockDups   map[string]bool            // object → duplicate rule blocks saves matching on Email
	stats       UpsertStats
}

// UpsertStats counts upserts by external id: records created, records
// found and updated, and saves a duplicate rule blocked.
type UpsertStats struct {
	Created, Updated, Blocked int
}

// AddExternalIDField adds a text field marked External ID to an object,
// as an admin does in Setup (Object Manager, Fields, "External ID"), so
// records can be upserted by it.
func (f *Fake) AddExternalIDField(object, field string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.schema[object] == nil {
		f.schema[object] = map[string]string{}
	}
	f.schema[object][field] = TypeString
	if f.upserts.externalIDs == nil {
		f.upserts.externalIDs = map[string]map[string]bool{}
	}
	if f.upserts.externalIDs[object] == nil {
		f.upserts.externalIDs[object] = map[string]bool{}
	}
	f.upserts.externalIDs[object][field] = true
}

// BlockDuplicates activates a duplicate rule on an object whose action on
// create is Block, matching an existing record with the same Email, as the
// standard Contact and Lead matching rules do for an exact email match.
func (f *Fake) BlockDuplicates(object string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.upserts.blockDups == nil {
		f.upserts.blockDups = map[string]bool{}
	}
	f.upserts.blockDups[object] = true
}

// Upserts returns what upserts by external id have done.
func (f *Fake) Upserts() UpsertStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.upserts.stats
}

// upsertLocked serves PATCH /sobjects/{object}/{field}/{value}, the REST
// API's upsert by external id ("Insert or Update (Upsert) a Record Using
// an External ID", REST API Developer Guide):
//   - a field that is not an external id answers 404 NOT_FOUND "Provided
//     external ID field does not exist or is not accessible";
//   - one record holding the value is updated: 200 with
//     {"id","success":true,"errors":[],"created":false};
//   - several answer 300 Multiple Choices with their URLs;
//   - none: the record is created with the value (201, "created":true),
//     unless a blocking duplicate rule matches an existing record: 400
//     DUPLICATES_DETECTED "Use one of these records?" with a
//     duplicateResult naming the matches (Duplicate Management's
//     DuplicateResult and MatchResult types). A Contact needs LastName
//     (400 REQUIRED_FIELD_MISSING).
func (f *Fake) upsertLocked(w http.ResponseWriter, r *http.Request, ver, object, field, value string) {
	if !f.upserts.externalIDs[object][field] {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+field)
		return
	}
	fields, err := decodeBody(r)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "JSON_PARSER_ERROR", err.Error())
		return
	}
	delete(fields, "attributes")
	var matches []*record
	for _, rec := range f.ordered[object] {
		if !rec.deleted && f.records[object][rec.id] == rec {
			if v, _ := rec.fields[field].(string); v != "" && strings.EqualFold(v, value) {
				matches = append(matches, rec)
			}
		}
	}
	switch {
	case len(matches) > 1:
		var urls []string
		for _, m := range matches {
			urls = append(urls, fmt.Sprintf("/services/data/%s/sobjects/%s/%s", ver, object, m.id))
		}
		writeJSON(w, http.StatusMultipleChoices, urls)
		return
	case len(matches) == 1:
		if err := f.updateLocked(matches[0], fields); err != nil {
			se := err.(*saveError)
			writeErr(w, http.StatusBadRequest, se.code, se.msg, se.fields...)
			return
		}
		f.upserts.stats.Updated++
		writeJSON(w, http.StatusOK, map[string]any{"id": matches[0].id, "success": true, "errors": []any{}, "created": false})
		return
	}
	if object == "Contact" || object == "Lead" {
		if ln, _ := fields["LastName"].(string); strings.TrimSpace(ln) == "" {
			writeErr(w, http.StatusBadRequest, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", "LastName")
			return
		}
	}
	if f.upserts.blockDups[object] {
		if email, _ := fields["Email"].(string); email != "" {
			var ids []string
			for _, rec := range f.ordered[object] {
				if e, _ := rec.fields["Email"].(string); !rec.deleted && f.records[object][rec.id] == rec && strings.EqualFold(e, email) {
					ids = append(ids, rec.id)
				}
			}
			if len(ids) > 0 {
				f.upserts.stats.Blocked++
				writeJSON(w, http.StatusBadRequest, []any{duplicatesDetected(ver, object, ids)})
				return
			}
		}
	}
	fields[field] = value
	rec, serr := f.createLocked(object, fields, f.opts.UserID)
	if serr != nil {
		writeErr(w, http.StatusBadRequest, serr.code, serr.msg, serr.fields...)
		return
	}
	f.upserts.stats.Created++
	writeJSON(w, http.StatusCreated, map[string]any{"id": rec.id, "success": true, "errors": []any{}, "created": true})
}

// duplicatesDetected is the error a blocking duplicate rule answers with.
func duplicatesDetected(ver, object string, ids []string) map[string]any {
	slices.Sort(ids)
	var recs []map[string]any
	for _, id := range ids {
		recs = append(recs, map[string]any{
			"additionalInformation": []any{}, "fieldDiffs": []any{}, "matchConfidence": 100.0,
			"record": map[string]any{"attributes": map[string]string{"type": object, "url": fmt.Sprintf("/services/data/%s/sobjects/%s/%s", ver, object, id)}, "Id": id},
		})
	}
	return map[string]any{
		"message": "Use one of these records?", "errorCode": "DUPLICATES_DETECTED", "fields": []string{},
		"duplicateResult": map[string]any{
			"allowSave": false, "duplicateRule": "Standard_" + object + "_Duplicate_Rule", "duplicateRuleEntityType": object,
			"errorMessage": "Use one of these records?",
			"matchResults": []any{map[string]any{"entityType": object, "errors": []any{}, "matchEngine": "ExactMatchEngine",
				"matchRecords": recs, "rule": "Standard_" + object + "_Match_Rule_v1_1", "size": len(recs), "success": true}},
		},
	}
}
