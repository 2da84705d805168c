package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// MaxCollection is the sObject Collections limit per request.
const MaxCollection = 200

type describeField struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Updateable bool   `json:"updateable"`
	Length     int    `json:"length"`
}

type describeResult struct {
	Name   string          `json:"name"`
	Fields []describeField `json:"fields"`
}

var fieldNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*__c$`)

// fieldAPIName derives a custom field's API name from a target name:
// "Segment__c" stays, "VIP segment" becomes "VIP_segment__c".
func fieldAPIName(name string) string {
	if fieldNameRE.MatchString(name) {
		return name
	}
	var b strings.Builder
	prevUnderscore := false
	for _, r := range strings.TrimSpace(name) {
		ok := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		if ok {
			b.WriteRune(r)
			prevUnderscore = false
		} else if !prevUnderscore && b.Len() > 0 {
			b.WriteByte('_')
			prevUnderscore = true
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "Segment_" + s
	}
	return s + "__c"
}

// writableTypes are field types a segment value can be written to.
var writableTypes = map[string]bool{"string": true, "textarea": true, "picklist": true, "multipicklist": true, "boolean": true}

// typedField reports whether a field of Salesforce type ft takes the
// values of a typed target: a date field the YYYY-MM-DD of a date, a
// double the decimal of a number.
func typedField(target, ft string) bool {
	return target == adapter.ValueDate && ft == "date" || target == adapter.ValueNumber && ft == "double"
}

// EnsureTargets checks that every property target exists as a custom
// field on Contact (and Lead) — fields cannot be created through the REST
// API, so a missing one is an error telling the admin exactly what to
// create — and finds or creates one Campaign per list target.
func (c *Connector) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	objects := []string{"Contact"}
	if c.cfg.Leads {
		objects = append(objects, "Lead")
	}
	describes := map[string]map[string]describeField{}
	var problems []string
	var out []adapter.EnsuredTarget
	for _, t := range targets {
		switch t.Kind {
		case adapter.TargetProperty:
			field := fieldAPIName(t.Name)
			var missing, wrong []string
			for _, o := range objects {
				fields, ok := describes[o]
				if !ok {
					var d describeResult
					if err := c.getJSON(ctx, "/sobjects/"+o+"/describe", nil, &d); err != nil {
						return nil, c.mapErr(err, "describing salesforce "+o)
					}
					fields = map[string]describeField{}
					for _, f := range d.Fields {
						fields[strings.ToLower(f.Name)] = f
					}
					describes[o] = fields
				}
				f, ok := fields[strings.ToLower(field)]
				switch {
				case !ok:
					missing = append(missing, o)
				case !writableTypes[f.Type] && !typedField(t.Type, f.Type):
					wrong = append(wrong, fmt.Sprintf("%s.%s is of type %s", o, field, f.Type))
				case !f.Updateable:
					wrong = append(wrong, fmt.Sprintf("%s.%s is not editable by the integration user (check field-level security)", o, field))
				}
			}
			kind := "Text(255)"
			if t.Multi {
				kind = "Long Text Area(32768)"
			}
			if len(missing) > 0 {
				problems = append(problems, fmt.Sprintf(
					"target %q: custom field %s is missing on %s; ask a Salesforce admin to create it (Setup → Object Manager → %s → Fields & Relationships → New) with type %s and API name %s, editable by the integration user",
					t.Key, field, strings.Join(missing, " and "), strings.Join(missing, ", "), kind, field))
			}
			for _, w := range wrong {
				problems = append(problems, fmt.Sprintf("target %q: %s; a %s field is needed", t.Key, w, kind))
			}
			if len(missing) == 0 && len(wrong) == 0 {
				out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: field})
			}
		case adapter.TargetList:
			id, created, err := c.ensureCampaign(ctx, t.Name)
			if err != nil {
				return nil, err
			}
			out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: id, Created: created})
		default:
			problems = append(problems, fmt.Sprintf("target %q: kind %q is not offered by salesforce", t.Key, t.Kind))
		}
	}
	if len(problems) > 0 {
		return out, adapter.Permanent(errors.New("ensuring salesforce targets: " + strings.Join(problems, "; ")))
	}
	return out, nil
}

// ensureCampaign finds the oldest Campaign with exactly this name, or
// creates it. Campaign names are not unique in Salesforce, and a create
// whose answer was lost (a 5xx after Salesforce saved it, which the client
// sends again) can leave two: after creating, it looks again and takes the
// oldest, the one every later lookup finds, so memberships are never
// written to a duplicate nobody finds again.
func (c *Connector) ensureCampaign(ctx context.Context, name string) (string, bool, error) {
	if name == "" {
		return "", false, adapter.Permanent(errors.New("ensuring salesforce campaign: target name is empty"))
	}
	found, err := c.findCampaign(ctx, name)
	if err != nil || found != "" {
		return found, false, err
	}
	var res struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	body := map[string]any{"Name": name, "IsActive": true, "Description": "Segment membership written by the segment connector."}
	if err := c.sendJSON(ctx, http.MethodPost, "/sobjects/Campaign", body, &res); err != nil {
		return "", false, c.mapErr(err, "creating salesforce campaign")
	}
	oldest, err := c.findCampaign(ctx, name)
	if err != nil {
		return "", false, err
	}
	if oldest == "" {
		oldest = res.ID // not yet visible to queries
	}
	return oldest, true, nil
}

// findCampaign returns the id of the oldest Campaign named exactly name,
// or "" when there is none.
func (c *Connector) findCampaign(ctx context.Context, name string) (string, error) {
	var found string
	soql := "SELECT Id, Name FROM Campaign WHERE Name = " + quoteString(name) + " ORDER BY CreatedDate ASC, Id ASC LIMIT 1"
	err := c.queryPages(ctx, soql, false, 0, func(recs []map[string]any) error {
		for _, r := range recs {
			// Name comparison in SOQL is case-insensitive; campaigns are
			// matched exactly.
			if row(r).str("Name") == name && found == "" {
				found = row(r).str("Id")
			}
		}
		return nil
	})
	if err != nil {
		return "", c.mapErr(err, "looking up salesforce campaign")
	}
	return found, nil
}

// saveResult is one element of an sObject Collections answer.
type saveResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
	Errors  []struct {
		StatusCode string   `json:"statusCode"`
		Message    string   `json:"message"`
		Fields     []string `json:"fields"`
	} `json:"errors"`
}

func (s saveResult) code() string {
	if len(s.Errors) == 0 {
		return ""
	}
	return s.Errors[0].StatusCode
}

func (s saveResult) reason() string {
	var parts []string
	for _, e := range s.Errors {
		p := e.StatusCode + ": " + e.Message
		if len(e.Fields) > 0 {
			p += " (fields " + strings.Join(e.Fields, ", ") + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

var retryableCodes = map[string]bool{"UNABLE_TO_LOCK_ROW": true, "ALL_OR_NONE_OPERATION_ROLLED_BACK": true,
	"REQUEST_LIMIT_EXCEEDED": true, "SERVER_UNAVAILABLE": true}

// results collects the worst outcome per push item.
type results struct {
	byID  map[string]*adapter.PushResult
	order []string
}

func newResults(items []adapter.PushItem) *results {
	r := &results{byID: map[string]*adapter.PushResult{}}
	for _, it := range items {
		if _, dup := r.byID[it.ID]; !dup {
			r.order = append(r.order, it.ID)
		}
		r.byID[it.ID] = &adapter.PushResult{ID: it.ID, Status: adapter.PushOK}
	}
	return r
}

func rank(s adapter.PushStatus) int {
	switch s {
	case adapter.PushPermanent:
		return 2
	case adapter.PushRetryable:
		return 1
	}
	return 0
}

func (r *results) fail(id string, st adapter.PushStatus, reason string, after time.Duration) {
	cur := r.byID[id]
	if cur == nil || rank(st) < rank(cur.Status) {
		return
	}
	if rank(st) == rank(cur.Status) && cur.Reason != "" {
		cur.Reason += "; " + reason
	} else {
		cur.Reason = reason
	}
	cur.Status = st
	if after > cur.RetryAfter {
		cur.RetryAfter = after
	}
}

// failCall marks items of a failed call by the error's kind.
func (r *results) failCall(ids []string, err error) {
	st := adapter.PushRetryable
	if !adapter.IsRetryable(err) {
		st = adapter.PushPermanent
	}
	for _, id := range ids {
		r.fail(id, st, err.Error(), adapter.RetryAfterOf(err))
	}
}

func (r *results) list() []adapter.PushResult {
	out := make([]adapter.PushResult, 0, len(r.order))
	for _, id := range r.order {
		out = append(out, *r.byID[id])
	}
	return out
}

type op struct {
	itemID string
	rec    map[string]any
}

// Push writes field values through sObject Collections PATCH, adds
// Campaign members through Collections POST (an existing membership is
// success) and removes only the Campaign members this integration user
// created, so memberships people added by hand stay. Every call carries
// at most 200 records.
func (c *Connector) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	if err := c.ready(); err != nil {
		return nil, err
	}
	if len(req.Items) > MaxCollection {
		return nil, adapter.Permanent(fmt.Errorf("pushing to salesforce: %d items, more than the %d this adapter accepts per call", len(req.Items), MaxCollection))
	}
	_, _, user, err := c.ts.session(ctx)
	if err != nil {
		return nil, c.mapErr(err, "signing in to salesforce")
	}
	res := newResults(req.Items)
	var updates, adds []op
	type pair struct{ campaign, who string }
	removes := map[pair][]string{} // → item ids
	for _, it := range req.Items {
		id := it.Ref.ID
		object, ok := sobjectOfRef(it.Ref.ObjectType, id)
		if !validID(id) || !ok || (object != "Contact" && object != "Lead") {
			res.fail(it.ID, adapter.PushPermanent, fmt.Sprintf("ref %s/%s is not a Salesforce Contact or Lead id", it.Ref.ObjectType, id), 0)
			continue
		}
		if len(it.Properties) > 0 {
			rec := map[string]any{"attributes": map[string]string{"type": object}, "id": id}
			keys := make([]string, 0, len(it.Properties))
			for k := range it.Properties {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			okAll := true
			for _, k := range keys {
				field := req.Targets[k]
				if field == "" {
					res.fail(it.ID, adapter.PushPermanent, fmt.Sprintf("property target %q has no Salesforce field; run EnsureTargets first", k), 0)
					okAll = false
					continue
				}
				if v := it.Properties[k]; v == "" {
					rec[field] = nil
				} else {
					rec[field] = v
				}
			}
			if okAll {
				updates = append(updates, op{itemID: it.ID, rec: rec})
			}
		}
		whoField := "ContactId"
		if object == "Lead" {
			whoField = "LeadId"
		}
		for _, k := range it.Add {
			camp := req.Targets[k]
			if !validID(camp) {
				res.fail(it.ID, adapter.PushPermanent, fmt.Sprintf("list target %q has no Salesforce campaign; run EnsureTargets first", k), 0)
				continue
			}
			adds = append(adds, op{itemID: it.ID, rec: map[string]any{
				"attributes": map[string]string{"type": "CampaignMember"}, "CampaignId": camp, whoField: id}})
		}
		for _, k := range it.Remove {
			camp := req.Targets[k]
			if !validID(camp) {
				res.fail(it.ID, adapter.PushPermanent, fmt.Sprintf("list target %q has no Salesforce campaign; run EnsureTargets first", k), 0)
				continue
			}
			p := pair{camp, id}
			removes[p] = append(removes[p], it.ID)
		}
	}

	if err := c.collections(ctx, http.MethodPatch, updates, res, nil); err != nil {
		return nil, err
	}
	dupOK := func(code string) bool { return code == "DUPLICATE_VALUE" }
	if err := c.collections(ctx, http.MethodPost, adds, res, dupOK); err != nil {
		return nil, err
	}

	if len(removes) > 0 {
		pairs := make([]pair, 0, len(removes))
		for p := range removes {
			pairs = append(pairs, p)
		}
		sort.Slice(pairs, func(i, j int) bool {
			if pairs[i].campaign != pairs[j].campaign {
				return pairs[i].campaign < pairs[j].campaign
			}
			return pairs[i].who < pairs[j].who
		})
		var members []op // CampaignMember ids to delete, with their item
		for start := 0; start < len(pairs); start += MaxCollection {
			chunk := pairs[start:min(start+MaxCollection, len(pairs))]
			camps, contacts, leads := map[string]bool{}, map[string]bool{}, map[string]bool{}
			for _, p := range chunk {
				camps[p.campaign] = true
				if strings.HasPrefix(p.who, "00Q") {
					leads[p.who] = true
				} else {
					contacts[p.who] = true
				}
			}
			// Contacts and leads in separate lists keep the GET URL far
			// below the platform's 16 KB limit at 200 pairs.
			var who []string
			if len(contacts) > 0 {
				who = append(who, "ContactId IN "+idList(sortedKeys(contacts)))
			}
			if len(leads) > 0 {
				who = append(who, "LeadId IN "+idList(sortedKeys(leads)))
			}
			soql := "SELECT Id, CampaignId, ContactId, LeadId, CreatedById FROM CampaignMember WHERE CampaignId IN " +
				idList(sortedKeys(camps)) + " AND (" + strings.Join(who, " OR ") + ")"
			err := c.queryPages(ctx, soql, false, 0, func(recs []map[string]any) error {
				for _, rm := range recs {
					r := row(rm)
					who := r.str("ContactId")
					if who == "" {
						who = r.str("LeadId")
					}
					items, wanted := removes[pair{r.str("CampaignId"), who}]
					if !wanted {
						continue
					}
					if r.str("CreatedById") != user {
						c.log.DebugContext(ctx, "leaving hand-made salesforce campaign membership", "campaign_member", r.str("Id"))
						continue
					}
					for _, itemID := range items {
						members = append(members, op{itemID: itemID, rec: map[string]any{"id": r.str("Id")}})
					}
				}
				return nil
			})
			if err != nil {
				err = c.mapErr(err, "finding salesforce campaign members")
				if adapter.KindOf(err) == adapter.KindAuth {
					return nil, err
				}
				for _, p := range chunk {
					res.failCall(removes[p], err)
				}
			}
		}
		goneOK := func(code string) bool { return code == "ENTITY_IS_DELETED" }
		if err := c.collections(ctx, http.MethodDelete, members, res, goneOK); err != nil {
			return nil, err
		}
	}
	return res.list(), nil
}

// collections sends ops in chunks of 200 with allOrNone=false and maps
// each SaveResult (in request order) back to its item. okCode says which
// failure codes mean the desired state already holds. Only an auth
// failure is returned as an error; anything else lands on the items.
func (c *Connector) collections(ctx context.Context, method string, ops []op, res *results, okCode func(string) bool) error {
	// Several ops may share a record (one CampaignMember removed for two
	// items); send each record once.
	for start := 0; start < len(ops); start += MaxCollection {
		chunk := ops[start:min(start+MaxCollection, len(ops))]
		ids := make([]string, len(chunk))
		for i, o := range chunk {
			ids[i] = o.itemID
		}
		var out []saveResult
		var err error
		if method == http.MethodDelete {
			del := make([]string, len(chunk))
			for i, o := range chunk {
				del[i] = o.rec["id"].(string)
			}
			q := url.Values{"ids": {strings.Join(del, ",")}, "allOrNone": {"false"}}
			err = c.sendJSON(ctx, method, "/composite/sobjects?"+q.Encode(), nil, &out)
		} else {
			recs := make([]map[string]any, len(chunk))
			for i, o := range chunk {
				recs[i] = o.rec
			}
			err = c.sendJSON(ctx, method, "/composite/sobjects", map[string]any{"allOrNone": false, "records": recs}, &out)
		}
		if err != nil {
			err = c.mapErr(err, "writing salesforce collection")
			if adapter.KindOf(err) == adapter.KindAuth {
				return err
			}
			res.failCall(ids, err)
			continue
		}
		if len(out) != len(chunk) {
			res.failCall(ids, adapter.Retryable(fmt.Errorf("writing salesforce collection: %d results for %d records", len(out), len(chunk))))
			continue
		}
		for i, sr := range out {
			if sr.Success || (okCode != nil && okCode(sr.code())) {
				continue
			}
			st := adapter.PushPermanent
			if retryableCodes[sr.code()] {
				st = adapter.PushRetryable
			}
			res.fail(chunk[i].itemID, st, sr.reason(), 0)
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sobjectOfRef names the sObject behind a ref, from its object type or,
// failing that, the id's key prefix.
func sobjectOfRef(objectType, id string) (string, bool) {
	switch objectType {
	case refContact:
		if strings.HasPrefix(id, "00Q") {
			return "Lead", true
		}
		return "Contact", true
	case refLead:
		return "Lead", true
	case refAccount:
		return "Account", true
	case refOpportunity:
		return "Opportunity", true
	case refOrder:
		return "Order", true
	}
	return sobjectOfID(id)
}

func sobjectOfID(id string) (string, bool) {
	switch {
	case strings.HasPrefix(id, "003"):
		return "Contact", true
	case strings.HasPrefix(id, "00Q"):
		return "Lead", true
	case strings.HasPrefix(id, "001"):
		return "Account", true
	case strings.HasPrefix(id, "006"):
		return "Opportunity", true
	case strings.HasPrefix(id, "801"):
		return "Order", true
	}
	return "", false
}
