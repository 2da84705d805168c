package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// ---- EnsureTargets ----

type propertyOption struct {
	Label        string `json:"label"`
	Value        string `json:"value"`
	DisplayOrder int    `json:"displayOrder"`
	Hidden       bool   `json:"hidden"`
}

type propertyDef struct {
	Name      string           `json:"name"`
	Label     string           `json:"label"`
	Type      string           `json:"type"`
	FieldType string           `json:"fieldType"`
	GroupName string           `json:"groupName"`
	Options   []propertyOption `json:"options,omitempty"`
}

type listDef struct {
	ListID         string `json:"listId"`
	Name           string `json:"name"`
	ProcessingType string `json:"processingType"`
}

var nonName = regexp.MustCompile(`[^a-z0-9_]+`)

// propertyNameFor picks the internal name of a property target: its Name
// when that is already a valid internal name, else a slug of its Key.
func propertyNameFor(t adapter.Target) string {
	if propertyName.MatchString(t.Name) {
		return t.Name
	}
	n := strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Key), "_"), "_")
	if n == "" || n[0] < 'a' || n[0] > 'z' {
		n = "seg_" + n
	}
	return n
}

// EnsureTargets creates (or finds) contact properties and MANUAL contact
// lists. Enumeration properties gain any missing options; existing options
// are never removed. It is idempotent.
func (c *Connector) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	st, err := c.state()
	if err != nil {
		return nil, err
	}
	var out []adapter.EnsuredTarget
	for _, t := range targets {
		var et adapter.EnsuredTarget
		switch t.Kind {
		case adapter.TargetProperty:
			et, err = st.ensureProperty(ctx, t)
		case adapter.TargetList:
			et, err = st.ensureList(ctx, t)
		default:
			err = adapter.Permanent(fmt.Errorf("ensuring hubspot target %q: kind %q: %w", t.Key, t.Kind, adapter.ErrUnsupported))
		}
		if err != nil {
			return out, err
		}
		out = append(out, et)
	}
	return out, nil
}

func (s state) ensureProperty(ctx context.Context, t adapter.Target) (adapter.EnsuredTarget, error) {
	name := propertyNameFor(t)
	for _, o := range t.Options {
		if strings.Contains(o, ";") || o == "" {
			return adapter.EnsuredTarget{}, adapter.Permanent(fmt.Errorf("ensuring hubspot property %s: option %q is empty or contains ';', HubSpot's multi-value separator", name, o))
		}
	}
	want := propertyDef{Name: name, Label: t.Name, GroupName: s.cfg.WriteBack.PropertyGroup, Type: "string", FieldType: "text"}
	if want.Label == "" {
		want.Label = name
	}
	switch t.Type {
	case adapter.ValueDate: // a date picker; values YYYY-MM-DD, midnight UTC
		want.Type, want.FieldType = "date", "date"
	case adapter.ValueNumber:
		want.Type, want.FieldType = "number", "number"
	}
	if len(t.Options) > 0 || t.Multi {
		want.Type, want.FieldType = "enumeration", "select"
		if t.Multi {
			want.FieldType = "checkbox"
		}
		for i, o := range t.Options {
			want.Options = append(want.Options, propertyOption{Label: o, Value: o, DisplayOrder: i})
		}
	}
	u := s.url("/crm/v3/properties/contacts/" + url.PathEscape(name))
	var have propertyDef
	err := call(ctx, s.api, http.MethodGet, u, nil, &have)
	created := false
	switch {
	case err == nil:
	case isStatus(err, http.StatusNotFound):
		err = call(ctx, s.api, http.MethodPost, s.url("/crm/v3/properties/contacts"), want, &have)
		if isStatus(err, http.StatusConflict) { // created concurrently
			err = call(ctx, s.api, http.MethodGet, u, nil, &have)
		} else {
			created = err == nil
		}
		if err != nil {
			return adapter.EnsuredTarget{}, fmt.Errorf("creating hubspot property %s: %w", name, err)
		}
	default:
		return adapter.EnsuredTarget{}, fmt.Errorf("reading hubspot property %s: %w", name, err)
	}
	if !created && have.Type == "enumeration" && len(want.Options) > 0 {
		opts := have.Options
		missing := false
		for _, o := range want.Options {
			if !slices.ContainsFunc(opts, func(h propertyOption) bool { return h.Value == o.Value }) {
				o.DisplayOrder = len(opts)
				opts = append(opts, o)
				missing = true
			}
		}
		if missing {
			if err := call(ctx, s.api, http.MethodPatch, u, map[string]any{"options": opts}, nil); err != nil {
				return adapter.EnsuredTarget{}, fmt.Errorf("adding options to hubspot property %s: %w", name, err)
			}
		}
	}
	return adapter.EnsuredTarget{Key: t.Key, PlatformID: name, Created: created}, nil
}

func (s state) ensureList(ctx context.Context, t adapter.Target) (adapter.EnsuredTarget, error) {
	name := t.Name
	if name == "" {
		name = t.Key
	}
	var got struct {
		List listDef `json:"list"`
	}
	u := s.url("/crm/v3/lists/object-type-id/0-1/name/" + url.PathEscape(name))
	err := call(ctx, s.api, http.MethodGet, u, nil, &got)
	created := false
	switch {
	case err == nil:
	case isStatus(err, http.StatusNotFound):
		body := map[string]string{"name": name, "objectTypeId": "0-1", "processingType": "MANUAL"}
		err = call(ctx, s.api, http.MethodPost, s.url("/crm/v3/lists"), body, &got)
		if isStatus(err, http.StatusConflict) || isStatus(err, http.StatusBadRequest) {
			if gerr := call(ctx, s.api, http.MethodGet, u, nil, &got); gerr == nil {
				err = nil
			}
		} else {
			created = err == nil
		}
		if err != nil {
			return adapter.EnsuredTarget{}, fmt.Errorf("creating hubspot list %q: %w", name, err)
		}
	default:
		return adapter.EnsuredTarget{}, fmt.Errorf("finding hubspot list %q: %w", name, err)
	}
	if got.List.ProcessingType != "MANUAL" && got.List.ProcessingType != "SNAPSHOT" {
		return adapter.EnsuredTarget{}, adapter.Permanent(fmt.Errorf("using hubspot list %q (id %s): it is a %s list, and only MANUAL or SNAPSHOT lists accept memberships; rename the segment's list or the existing list",
			name, got.List.ListID, got.List.ProcessingType))
	}
	return adapter.EnsuredTarget{Key: t.Key, PlatformID: got.List.ListID, Created: created}, nil
}

func isStatus(err error, status int) bool {
	_, code, ok := apiErrorOf(err)
	return ok && code == status
}

// ---- Push ----

// outcome accumulates one item's result across its parts.
type outcome struct {
	status adapter.PushStatus
	reason []string
}

func (o *outcome) fail(s adapter.PushStatus, reason string) {
	if o.status != adapter.PushPermanent {
		o.status = s
	}
	o.reason = append(o.reason, reason)
}

type updateInput struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

// Push writes absolute property values (batch/update, 100 per call) and list
// membership changes (add-and-remove, list_batch ids per call) and returns
// one result per item.
func (c *Connector) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	st, err := c.state()
	if err != nil {
		return nil, err
	}
	res := map[string]*outcome{}
	var inputs []updateInput
	itemOf := map[string][]string{} // record id → item ids
	type op struct{ id, item string }
	adds, removes := map[string][]op{}, map[string][]op{}
	var listOrder []string
	for _, it := range req.Items {
		o := &outcome{status: adapter.PushOK}
		res[it.ID] = o
		props := map[string]string{}
		for key, v := range it.Properties {
			name, ok := req.Targets[key]
			if !ok || name == "" {
				o.fail(adapter.PushPermanent, fmt.Sprintf("no hubspot property for target %q: run EnsureTargets first", key))
				continue
			}
			props[name] = v
		}
		if len(props) > 0 {
			inputs = append(inputs, updateInput{ID: it.Ref.ID, Properties: props})
			itemOf[it.Ref.ID] = append(itemOf[it.Ref.ID], it.ID)
		}
		for _, pair := range []struct {
			keys []string
			into map[string][]op
		}{{it.Add, adds}, {it.Remove, removes}} {
			for _, key := range pair.keys {
				list, ok := req.Targets[key]
				if !ok || list == "" {
					o.fail(adapter.PushPermanent, fmt.Sprintf("no hubspot list for target %q: run EnsureTargets first", key))
					continue
				}
				if !slices.Contains(listOrder, list) {
					listOrder = append(listOrder, list)
				}
				pair.into[list] = append(pair.into[list], op{it.Ref.ID, it.ID})
			}
		}
	}
	failItems := func(recordIDs []string, s adapter.PushStatus, reason string) {
		for _, rid := range recordIDs {
			for _, item := range itemOf[rid] {
				res[item].fail(s, reason)
			}
		}
	}
	// Property writes go before list calls and pulls waiting for the same
	// budget: they are what the daemon's live write-back is timed on, and
	// list changes are batched over seconds anyway (see WritePacing).
	for start := 0; start < len(inputs); start += batchMax {
		if err := st.update(withPriority(ctx), inputs[start:min(start+batchMax, len(inputs))], failItems, true); err != nil {
			return nil, err
		}
	}
	for _, list := range listOrder {
		all := []op{}
		kinds := []bool{}
		for _, o := range adds[list] {
			all, kinds = append(all, o), append(kinds, true)
		}
		for _, o := range removes[list] {
			all, kinds = append(all, o), append(kinds, false)
		}
		size := st.cfg.WriteBack.ListBatch
		for start := 0; start < len(all); start += size {
			end := min(start+size, len(all))
			body := struct {
				Add    []string `json:"recordIdsToAdd"`
				Remove []string `json:"recordIdsToRemove"`
			}{[]string{}, []string{}}
			owners := map[string][]string{}
			for i := start; i < end; i++ {
				if kinds[i] {
					body.Add = append(body.Add, all[i].id)
				} else {
					body.Remove = append(body.Remove, all[i].id)
				}
				owners[all[i].id] = append(owners[all[i].id], all[i].item)
			}
			var out struct {
				Added   []string `json:"recordsIdsAdded"`
				Removed []string `json:"recordIdsRemoved"`
				Missing []string `json:"recordIdsMissing"`
			}
			err := call(inBackground(ctx), st.api, http.MethodPut, st.url("/crm/v3/lists/"+url.PathEscape(list)+"/memberships/add-and-remove"), body, &out)
			if err != nil {
				kind := adapter.KindOf(err)
				if kind == adapter.KindAuth {
					return nil, fmt.Errorf("updating hubspot list %s memberships: %w", list, err)
				}
				status, reason := adapter.PushRetryable, err.Error()
				if kind == adapter.KindPermanent {
					status = adapter.PushPermanent
					if e, _, ok := apiErrorOf(err); ok && e.Message != "" {
						reason = e.Message
					}
				}
				for i := start; i < end; i++ {
					res[all[i].item].fail(status, fmt.Sprintf("list %s: %s", list, reason))
				}
				continue
			}
			for _, rid := range out.Missing {
				for _, item := range owners[rid] {
					res[item].fail(adapter.PushPermanent, fmt.Sprintf("list %s: contact %s does not exist (recordIdsMissing)", list, rid))
				}
			}
		}
	}
	results := make([]adapter.PushResult, 0, len(req.Items))
	for _, it := range req.Items {
		o := res[it.ID]
		r := adapter.PushResult{ID: it.ID, Status: o.status}
		if len(o.reason) > 0 {
			r.Reason = strings.Join(o.reason, "; ")
		}
		results = append(results, r)
	}
	return results, nil
}

// update sends one batch/update and reports per-record failures. A 207
// with retryable errors retries those records once; a 400 for the whole
// batch (one bad value fails all) is bisected to find the bad records.
func (s state) update(ctx context.Context, inputs []updateInput, fail func([]string, adapter.PushStatus, string), retry bool) error {
	var resp batchResp
	err := call(ctx, s.api, http.MethodPost, s.url("/crm/v3/objects/contacts/batch/update"), map[string]any{"inputs": inputs}, &resp)
	if err != nil {
		ids := make([]string, len(inputs))
		for i, in := range inputs {
			ids[i] = in.ID
		}
		switch adapter.KindOf(err) {
		case adapter.KindAuth:
			return fmt.Errorf("updating hubspot contacts: %w", err)
		case adapter.KindPermanent:
			if len(inputs) > 1 {
				half := len(inputs) / 2
				if err := s.update(ctx, inputs[:half], fail, retry); err != nil {
					return err
				}
				return s.update(ctx, inputs[half:], fail, retry)
			}
			reason := err.Error()
			if e, _, ok := apiErrorOf(err); ok && e.Message != "" {
				reason = e.Category + ": " + e.Message
			}
			fail(ids, adapter.PushPermanent, reason)
		default:
			fail(ids, adapter.PushRetryable, err.Error())
		}
		return nil
	}
	var again []updateInput
	for _, e := range resp.Errors {
		ids := e.Context["ids"]
		if e.Category == "OBJECT_NOT_FOUND" || e.Category == "VALIDATION_ERROR" {
			fail(ids, adapter.PushPermanent, e.Category+": "+e.Message)
			continue
		}
		if !retry {
			fail(ids, adapter.PushRetryable, e.Category+": "+e.Message)
			continue
		}
		for _, in := range inputs {
			if slices.Contains(ids, in.ID) {
				again = append(again, in)
			}
		}
	}
	if len(again) > 0 {
		return s.update(ctx, again, fail, false)
	}
	return nil
}
