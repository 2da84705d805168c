package woocommerce

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// listValue is the meta value written for a list membership; leaving the
// list deletes the key.
const listValue = "yes"

// metaKeyFor turns a target into the customer meta key that holds it: the
// name itself when the connector owns it (an owned key or one under the
// meta prefix), otherwise the name under the prefix, e.g. "vip" →
// "_seg_vip". Lists always live under the prefix: "_seg_list_<name>".
func metaKeyFor(cfg Config, m *mapper, t adapter.Target) string {
	name := strings.TrimSpace(t.Name)
	if name == "" {
		name = t.Key
	}
	if t.Kind == adapter.TargetProperty && m.owned(name) {
		return name
	}
	slug := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		default:
			return '_'
		}
	}, strings.TrimLeft(name, "_"))
	if t.Kind == adapter.TargetList {
		return cfg.WriteBack.MetaPrefix + "_list_" + slug
	}
	return cfg.WriteBack.MetaPrefix + "_" + slug
}

// EnsureTargets implements adapter.Adapter. Customer meta needs no schema
// in WooCommerce, so nothing is created remotely: each target gets the
// meta key it will be written under, and every such key is owned by the
// connector (it only ever writes owned keys).
func (c *Connector) EnsureTargets(_ context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	cfg, _, m, err := c.state()
	if err != nil {
		return nil, err
	}
	out := make([]adapter.EnsuredTarget, 0, len(targets))
	for _, t := range targets {
		if t.Kind != adapter.TargetProperty && t.Kind != adapter.TargetList {
			return nil, adapter.Permanent(fmt.Errorf("ensuring %s target %q: kind %q: %w", Name, t.Key, t.Kind, adapter.ErrUnsupported))
		}
		out = append(out, adapter.EnsuredTarget{Key: t.Key, PlatformID: metaKeyFor(cfg, m, t)})
	}
	return out, nil
}

type metaOut struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type customerUpdate struct {
	ID       int       `json:"id"`
	MetaData []metaOut `json:"meta_data"`
}

// Push implements adapter.Adapter: each item becomes a meta_data update of
// its customer, sent through POST /customers/batch in batches of at most
// 100 (halved when the store answers 413). Only the keys in the item are
// sent. Guest customers (no customer record) are counted and reported as
// permanent failures.
func (c *Connector) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	cfg, a, m, err := c.state()
	if err != nil {
		return nil, err
	}
	results := make([]adapter.PushResult, 0, len(req.Items))
	// One update per customer: later items override earlier ones per key.
	type pending struct {
		itemIDs []string
		meta    map[string]any
		order   []string
	}
	byCustomer := map[int]*pending{}
	var customers []int
	guests := 0
	for _, it := range req.Items {
		id, err := strconv.Atoi(it.Ref.ID)
		switch {
		case it.Ref.ObjectType == "guest" || it.Ref.ID == "0":
			guests++
			results = append(results, adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent,
				Reason: "guest customer (customer_id 0): WooCommerce has no customer record to write meta to"})
			continue
		case err != nil || id <= 0:
			results = append(results, adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent,
				Reason: fmt.Sprintf("ref.id %q is not a WooCommerce customer id", it.Ref.ID)})
			continue
		case it.Ref.ObjectType != "" && it.Ref.ObjectType != domain.ObjectContact:
			results = append(results, adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent,
				Reason: fmt.Sprintf("ref.object_type %q: only customers take write-back", it.Ref.ObjectType)})
			continue
		}
		meta, reason := c.itemMeta(cfg, m, req.Targets, it)
		if reason != "" {
			results = append(results, adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: reason})
			continue
		}
		p := byCustomer[id]
		if p == nil {
			p = &pending{meta: map[string]any{}}
			byCustomer[id] = p
			customers = append(customers, id)
		}
		p.itemIDs = append(p.itemIDs, it.ID)
		for _, kv := range meta {
			if _, dup := p.meta[kv.Key]; !dup {
				p.order = append(p.order, kv.Key)
			}
			p.meta[kv.Key] = kv.Value
		}
	}
	if guests > 0 {
		c.stats.guestsSkipped.Add(int64(guests))
		c.log.InfoContext(ctx, "guest customers cannot take write-back", "count", guests)
	}
	var updates []customerUpdate
	for _, id := range customers {
		p := byCustomer[id]
		if len(p.order) == 0 {
			for _, iid := range p.itemIDs {
				results = append(results, adapter.PushResult{ID: iid, Status: adapter.PushOK})
			}
			continue
		}
		u := customerUpdate{ID: id}
		for _, k := range p.order {
			u.MetaData = append(u.MetaData, metaOut{Key: k, Value: p.meta[k]})
		}
		updates = append(updates, u)
	}
	outcome := map[int]adapter.PushResult{}
	if err := c.sendBatches(ctx, a, updates, outcome); err != nil {
		return nil, err
	}
	for _, id := range customers {
		r, ok := outcome[id]
		if !ok {
			continue
		}
		for _, iid := range byCustomer[id].itemIDs {
			r.ID = iid
			results = append(results, r)
		}
	}
	return results, nil
}

// itemMeta turns an item's properties and list changes into meta entries,
// refusing keys the connector does not own.
func (c *Connector) itemMeta(cfg Config, m *mapper, targets map[string]string, it adapter.PushItem) ([]metaOut, string) {
	var out []metaOut
	key := func(tk string, kind adapter.TargetKind) string {
		if id := targets[tk]; id != "" {
			return id
		}
		return metaKeyFor(cfg, m, adapter.Target{Key: tk, Kind: kind, Name: tk})
	}
	keys := make([]string, 0, len(it.Properties))
	for k := range it.Properties {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, tk := range keys {
		mk := key(tk, adapter.TargetProperty)
		if !m.owned(mk) {
			return nil, fmt.Sprintf("properties[%s]: meta key %q is not owned by the connector (owned: %s* and write_back.owned_keys)", tk, mk, cfg.WriteBack.MetaPrefix)
		}
		var v any = it.Properties[tk]
		if it.Properties[tk] == "" {
			v = nil
		}
		out = append(out, metaOut{Key: mk, Value: v})
	}
	for _, tk := range it.Add {
		mk := key(tk, adapter.TargetList)
		if !m.owned(mk) {
			return nil, fmt.Sprintf("add[%s]: meta key %q is not owned by the connector", tk, mk)
		}
		out = append(out, metaOut{Key: mk, Value: listValue})
	}
	for _, tk := range it.Remove {
		mk := key(tk, adapter.TargetList)
		if !m.owned(mk) {
			return nil, fmt.Sprintf("remove[%s]: meta key %q is not owned by the connector", tk, mk)
		}
		out = append(out, metaOut{Key: mk, Value: nil})
	}
	return out, ""
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

type batchItem struct {
	ID    int `json:"id"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Status int `json:"status"`
		} `json:"data"`
	} `json:"error"`
}

// sendBatches posts updates in batches, recording an outcome per customer.
// Only an auth failure or a cancelled context aborts the whole push.
func (c *Connector) sendBatches(ctx context.Context, a *api, updates []customerUpdate, outcome map[int]adapter.PushResult) error {
	for len(updates) > 0 {
		n := min(int(c.batchSize.Load()), len(updates))
		batch := updates[:n]
		var resp struct {
			Update []batchItem `json:"update"`
		}
		_, err := a.do(ctx, "writing woocommerce customer meta", http.MethodPost, "/customers/batch", nil,
			map[string]any{"update": batch}, &resp)
		var se *wooError
		if err != nil && errors.As(err, &se) && se.status == http.StatusRequestEntityTooLarge && n > 1 {
			c.batchSize.Store(int64(max(1, n/2)))
			c.log.WarnContext(ctx, "store refused the batch size; halving it", "from", n, "to", n/2)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if adapter.KindOf(err) == adapter.KindAuth {
				return err
			}
			st := adapter.PushRetryable
			if !adapter.IsRetryable(err) {
				st = adapter.PushPermanent
			}
			for _, u := range batch {
				outcome[u.ID] = adapter.PushResult{Status: st, Reason: err.Error(), RetryAfter: adapter.RetryAfterOf(err)}
			}
			updates = updates[n:]
			continue
		}
		for _, u := range batch {
			outcome[u.ID] = adapter.PushResult{Status: adapter.PushRetryable, Reason: "missing from the batch answer"}
		}
		for _, it := range resp.Update {
			if it.Error == nil {
				outcome[it.ID] = adapter.PushResult{Status: adapter.PushOK}
				continue
			}
			st := adapter.PushPermanent
			if it.Error.Data.Status >= 500 || it.Error.Data.Status == http.StatusTooManyRequests {
				st = adapter.PushRetryable
			}
			outcome[it.ID] = adapter.PushResult{Status: st, Reason: fmt.Sprintf("%s: %s", it.Error.Code, it.Error.Message)}
		}
		updates = updates[n:]
	}
	return nil
}
