package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// batchMax is HubSpot's v3 batch limit (inputs per request).
const batchMax = 100

type idInput struct {
	ID string `json:"id"`
}

type batchReadRequest struct {
	Inputs                []idInput `json:"inputs"`
	Properties            []string  `json:"properties"`
	PropertiesWithHistory []string  `json:"propertiesWithHistory"`
}

// batchError is one entry of a batch response's errors (StandardError).
type batchError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
}

type batchResp struct {
	Status  string            `json:"status"`
	Results []json.RawMessage `json:"results"`
	Errors  []batchError      `json:"errors"`
}

// batchRead reads records by id, 100 per call; it returns the raw records
// and the ids HubSpot reported missing.
func (s state) batchRead(ctx context.Context, path string, props []string, ids []string) ([]json.RawMessage, []string, error) {
	var out []json.RawMessage
	var missing []string
	for start := 0; start < len(ids); start += batchMax {
		chunk := ids[start:min(start+batchMax, len(ids))]
		req := batchReadRequest{Properties: props, PropertiesWithHistory: []string{}}
		for _, id := range chunk {
			req.Inputs = append(req.Inputs, idInput{id})
		}
		var resp batchResp
		// A batch read sent as POST changes nothing: a broken answer is
		// read again, as for a GET.
		if err := call(httpkit.AsRead(ctx), s.api, http.MethodPost, s.url("/crm/v3/objects/"+path+"/batch/read"), req, &resp); err != nil {
			return nil, nil, fmt.Errorf("reading hubspot %s by id: %w", path, err)
		}
		out = append(out, resp.Results...)
		for _, e := range resp.Errors {
			missing = append(missing, e.Context["ids"]...)
		}
	}
	return out, missing, nil
}

type assocResp struct {
	Results []struct {
		From struct {
			ID string `json:"id"`
		} `json:"from"`
		To []struct {
			ToObjectID objectID `json:"toObjectId"`
		} `json:"to"`
	} `json:"results"`
}

// objectID is a record id that HubSpot sends either as a string (as its v4
// associations spec declares toObjectId) or as a JSON number (as the
// examples in its associations guide show); both decode to the decimal text.
type objectID string

// UnmarshalJSON accepts a JSON string or an integer.
func (id *objectID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*id = objectID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("object id %s: neither a string nor a number", b)
	}
	if _, err := n.Int64(); err != nil {
		return fmt.Errorf("object id %s: not a whole number", b)
	}
	*id = objectID(n.String())
	return nil
}

// associations returns, per from-id, the associated ids of another type
// (v4 batch read, up to 1,000 inputs per call).
func (s state) associations(ctx context.Context, from, to string, ids []string) (map[string][]string, error) {
	out := map[string][]string{}
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		var in struct {
			Inputs []idInput `json:"inputs"`
		}
		for _, id := range chunk {
			in.Inputs = append(in.Inputs, idInput{id})
		}
		var resp assocResp
		if err := call(httpkit.AsRead(ctx), s.api, http.MethodPost, s.url("/crm/v4/associations/"+from+"/"+to+"/batch/read"), in, &resp); err != nil {
			return nil, fmt.Errorf("reading hubspot %s→%s associations: %w", from, to, err)
		}
		for _, r := range resp.Results {
			for _, t := range r.To {
				out[r.From.ID] = append(out[r.From.ID], string(t.ToObjectID))
			}
		}
	}
	return out, nil
}

// enrich attaches companies to contacts, and customers and line items to
// deals and orders.
func (s state) enrich(ctx context.Context, spec objSpec, changes []adapter.Change, cache map[string]*domain.Company) error {
	switch spec.object {
	case domain.ObjectContact:
		if !s.cfg.Firmographics {
			return nil
		}
		var need []string
		for _, ch := range changes {
			if ch.Contact != nil && ch.Contact.CompanyRef.ID != "" {
				if _, ok := cache[ch.Contact.CompanyRef.ID]; !ok && !slices.Contains(need, ch.Contact.CompanyRef.ID) {
					need = append(need, ch.Contact.CompanyRef.ID)
				}
			}
		}
		if len(need) > 0 {
			raws, _, err := s.batchRead(ctx, "companies", companyProps(), need)
			if err != nil {
				return err
			}
			for _, id := range need {
				cache[id] = nil
			}
			for _, raw := range raws {
				o, err := decodeObject(raw)
				if err != nil {
					continue
				}
				if co, err := s.mapCompany(o); err == nil {
					cache[o.ID] = co
				}
			}
		}
		for _, ch := range changes {
			if ch.Contact != nil && ch.Contact.CompanyRef.ID != "" {
				ch.Contact.Company = cache[ch.Contact.CompanyRef.ID]
			}
		}
	case domain.ObjectDeal, domain.ObjectOrder:
		var ids []string
		byID := map[string]*domain.Order{}
		for _, ch := range changes {
			if ch.Order != nil {
				ids = append(ids, ch.Order.Ref.ID)
				byID[ch.Order.Ref.ID] = ch.Order
			}
		}
		if len(ids) == 0 {
			return nil
		}
		contacts, err := s.associations(ctx, spec.v4, "contacts", ids)
		if err != nil {
			return err
		}
		for id, cs := range contacts {
			if o := byID[id]; o != nil && len(cs) > 0 {
				o.CustomerRef = s.ref(domain.ObjectContact, cs[0], o.CustomerRef.LastModified)
			}
		}
		if !s.cfg.LineItems {
			return nil
		}
		items, err := s.associations(ctx, spec.v4, "line_items", ids)
		if err != nil {
			return err
		}
		var liIDs []string
		for _, l := range items {
			liIDs = append(liIDs, l...)
		}
		if len(liIDs) == 0 {
			return nil
		}
		raws, _, err := s.batchRead(ctx, "line_items", lineItemProps(), liIDs)
		if err != nil {
			return err
		}
		objs := map[string]hsObject{}
		for _, raw := range raws {
			if o, err := decodeObject(raw); err == nil {
				objs[o.ID] = o
			}
		}
		for id, lis := range items {
			o := byID[id]
			if o == nil {
				continue
			}
			for _, li := range lis {
				if lo, ok := objs[li]; ok {
					if item, err := mapLineItem(lo, o.Currency); err == nil {
						o.Items = append(o.Items, item)
					}
				}
			}
		}
	}
	return nil
}

// Fetch returns the current state of records by id, ahead of pulls and
// pushes in the rate budget. A missing id comes back as a delete; an id
// merged into another as a merge plus the survivor's upsert.
func (c *Connector) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	st, err := c.state()
	if err != nil {
		return nil, err
	}
	spec, ok := st.spec(req.Object)
	if !ok {
		return nil, adapter.Permanent(fmt.Errorf("fetching hubspot %q: %w", req.Object, adapter.ErrUnsupported))
	}
	ctx = withPriority(ctx)
	raws, missing, err := st.batchRead(ctx, spec.path, spec.props, req.IDs)
	if err != nil {
		return nil, err
	}
	var out []adapter.Change
	seen := map[string]bool{}
	for _, raw := range raws {
		o, err := decodeObject(raw)
		if err != nil {
			return nil, adapter.Permanent(fmt.Errorf("fetching hubspot %s %s: %w", spec.label, o.ID, err))
		}
		chs, err := st.mapChange(spec.object, o)
		if err != nil {
			return nil, adapter.Permanent(fmt.Errorf("fetching hubspot %s %s: %w", spec.label, o.ID, err))
		}
		seen[o.ID] = true
		for _, ch := range chs {
			seen[ch.Ref.ID] = true
		}
		out = append(out, chs...)
	}
	for _, id := range missing {
		if !seen[id] {
			seen[id] = true
			out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: st.ref(spec.object, id, c.now().UTC())})
		}
	}
	if err := st.enrich(ctx, spec, out, map[string]*domain.Company{}); err != nil {
		return nil, err
	}
	return out, nil
}
