package apptest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Expected is what each platform record should hold: for every segment
// definition written back as a property, the display name of the
// (non-control) group the profile is in; for every list target, its
// non-control members.
type Expected struct {
	Props map[string]map[string]string // platform record key → property target key → value
	Lists map[string]map[string]bool   // list target key → platform record key → member
}

// ComputeExpected computes Expected for one platform from the stored
// memberships and the last full run, independently of the write-back
// code.
func ComputeExpected(t testing.TB, a *app.App, platform string) Expected {
	t.Helper()
	ctx := context.Background()
	res := a.Pipeline.LastResult()
	info := map[string]segment.SegmentInfo{}
	for _, s := range res.Segments {
		info[s.Name] = s
	}
	exp := Expected{Props: map[string]map[string]string{}, Lists: map[string]map[string]bool{}}
	after := ""
	for {
		ps, err := a.Store.ListProfiles(ctx, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 {
			break
		}
		after = ps[len(ps)-1].ID
		for _, p := range ps {
			ms, err := a.Store.Memberships(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, ref := range p.Refs {
				if ref.Platform != platform || (ref.ObjectType != domain.ObjectContact && ref.ObjectType != "lead") {
					continue
				}
				rk := ref.ObjectType + "/" + ref.ID
				vals := map[string][]string{}
				for _, d := range res.Segments {
					if wb, ok := d.Writeback[platform]; ok && wb.Property != "" {
						if _, ok := vals["prop:"+wb.Property]; !ok {
							vals["prop:"+wb.Property] = nil // written back, even when empty
						}
					}
				}
				for _, m := range ms {
					s := info[m.Segment]
					wb, ok := s.Writeback[platform]
					if !ok || m.Control {
						continue
					}
					if wb.Property != "" {
						vals["prop:"+wb.Property] = append(vals["prop:"+wb.Property], s.Group)
					}
					// Lists are what marketing sends to: someone who opted out
					// of marketing email is in none unless the segment says so.
					optedOut := p.Consent.Email == domain.ConsentDenied || p.Consent.Email == domain.ConsentRevoked
					if wb.List && (!optedOut || wb.IncludeOptedOut) {
						key := "list:" + s.Name
						if exp.Lists[key] == nil {
							exp.Lists[key] = map[string]bool{}
						}
						exp.Lists[key][rk] = true
					}
				}
				exp.Props[rk] = map[string]string{}
				for k, v := range vals {
					sort.Strings(v)
					exp.Props[rk][k] = strings.Join(v, ";")
				}
			}
		}
	}
	return exp
}

// HandMade names values a person set by hand, which must survive.
type HandMade struct {
	HubSpotList    string // list target key
	HubSpotContact string
	WooCustomer    int
}

// Mismatches compares one fake platform's state with what the core
// computed (ComputeExpected) and returns every difference, and how many
// values it compared.
func Mismatches(t testing.TB, a *app.App, sb *sandbox.Sandbox, platform string, hand HandMade) ([]string, int) {
	t.Helper()
	exp := ComputeExpected(t, a, platform)
	ids := a.Pipeline.TargetIDs(platform)
	var probs []string
	checked := 0
	switch platform {
	case sandbox.HubSpot:
		for rk, props := range exp.Props {
			id := strings.TrimPrefix(rk, "contact/")
			obj, ok := sb.HubSpotFake.Get("contacts", id)
			if !ok {
				probs = append(probs, fmt.Sprintf("hubspot contact %s missing", id))
				continue
			}
			for key, want := range props {
				name := ids[key]
				if name == "" && want == "" {
					continue
				}
				if got := obj.Properties[name]; got != want {
					probs = append(probs, fmt.Sprintf("hubspot contact %s %s = %q, want %q", id, name, got, want))
				}
				checked++
			}
		}
		for key, listID := range ids {
			if !strings.HasPrefix(key, "list:") {
				continue
			}
			got := map[string]bool{}
			for _, id := range sb.HubSpotFake.ListMembers(listID) {
				got["contact/"+id] = true
			}
			want := map[string]bool{}
			for k := range exp.Lists[key] {
				want[k] = true
			}
			if key == hand.HubSpotList && hand.HubSpotContact != "" {
				if !got["contact/"+hand.HubSpotContact] {
					probs = append(probs, fmt.Sprintf("the contact a person added by hand to %s was removed", key))
				}
				delete(got, "contact/"+hand.HubSpotContact)
				delete(want, "contact/"+hand.HubSpotContact)
			}
			checked += len(want)
			if !sameSet(got, want) {
				probs = append(probs, fmt.Sprintf("hubspot list %s: got %d members, want %d (missing %v, extra %v)", key, len(got), len(want), diff(want, got), diff(got, want)))
			}
		}
	case sandbox.WooCommerce:
		p, n := wooMismatches(sb.WooFake, platform, exp, ids, hand)
		probs, checked = append(probs, p...), checked+n
	case sandbox.Salesforce:
		byID := map[string]map[string]any{}
		for _, obj := range []string{"Contact", "Lead"} {
			for _, r := range sb.SalesforceFake.Records(obj) {
				byID[fmt.Sprint(r["Id"])] = r
			}
		}
		for rk, props := range exp.Props {
			_, id, _ := strings.Cut(rk, "/")
			r, ok := byID[id]
			if !ok {
				probs = append(probs, fmt.Sprintf("salesforce record %s missing", rk))
				continue
			}
			for key, want := range props {
				name := ids[key]
				if name == "" && want == "" {
					continue
				}
				got := ""
				if v := r[name]; v != nil {
					got = fmt.Sprint(v)
				}
				if got != want {
					probs = append(probs, fmt.Sprintf("salesforce %s %s = %q, want %q", rk, name, got, want))
				}
				checked++
			}
		}
		members := map[string]map[string]bool{}
		for _, m := range sb.SalesforceFake.Records("CampaignMember") {
			camp := fmt.Sprint(m["CampaignId"])
			if members[camp] == nil {
				members[camp] = map[string]bool{}
			}
			for f, obj := range map[string]string{"ContactId": "contact", "LeadId": "lead"} {
				if v := m[f]; v != nil && v != "" {
					members[camp][obj+"/"+fmt.Sprint(v)] = true
				}
			}
		}
		for key, camp := range ids {
			if strings.HasPrefix(key, "list:") {
				checked += len(exp.Lists[key])
				if !sameSet(members[camp], exp.Lists[key]) {
					probs = append(probs, fmt.Sprintf("salesforce campaign %s (%s): got %d members, want %d", camp, key, len(members[camp]), len(exp.Lists[key])))
				}
			}
		}
	}
	return probs, checked
}

// ShopMismatches is Mismatches for one WooCommerce instance (such as
// shop-us) and the fake of its shop.
func ShopMismatches(t testing.TB, a *app.App, fake *woocommercefake.Fake, instance string) ([]string, int) {
	t.Helper()
	return wooMismatches(fake, instance, ComputeExpected(t, a, instance), a.Pipeline.TargetIDs(instance), HandMade{})
}

// wooMismatches compares a WooCommerce fake's customer meta with what an
// instance's records should hold.
func wooMismatches(fake *woocommercefake.Fake, platform string, exp Expected, ids map[string]string, hand HandMade) (probs []string, checked int) {
	for rk, props := range exp.Props {
		id, _ := strconv.Atoi(strings.TrimPrefix(rk, "contact/"))
		c, ok := fake.Customer(id)
		if !ok {
			continue // a guest: no customer record to write to
		}
		meta := map[string]string{}
		for _, m := range c.MetaData {
			meta[m.Key] = fmt.Sprint(m.Value)
		}
		for key, want := range props {
			if name := ids[key]; name != "" || want != "" {
				if got := meta[name]; got != want {
					probs = append(probs, fmt.Sprintf("%s customer %d meta %s = %q, want %q", platform, id, name, got, want))
				}
				checked++
			}
		}
		if id == hand.WooCustomer && meta["_vip_note"] != "set by hand" {
			probs = append(probs, fmt.Sprintf("the meta a person set by hand on customer %d was changed: %q", id, meta["_vip_note"]))
		}
	}
	return probs, checked
}

// PlatformState compares every fake platform with the memberships in a
// store that daemons (now stopped) left behind. A fresh App knows no
// target ids, so it plans once (which writes nothing) for the segment
// definitions and asks each adapter for its targets' ids, which creates
// nothing that already exists.
func PlatformState(t testing.TB, a *app.App, sb *sandbox.Sandbox) (problems []string, checked int) {
	t.Helper()
	ctx := context.Background()
	plan, err := a.Pipeline.Plan(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, pp := range plan.Platforms {
		got, err := a.Adapters[pp.Platform].EnsureTargets(ctx, pp.Targets)
		if err != nil {
			t.Fatalf("looking up %s write-back targets: %v", pp.Platform, err)
		}
		ids := map[string]string{}
		for _, e := range got {
			ids[e.Key] = e.PlatformID
		}
		p, n := CompareWithFake(t, a, sb, pp.Platform, ids)
		problems = append(problems, p...)
		checked += n
	}
	return problems, checked
}

// CompareWithFake is Mismatches against target ids given by the caller.
func CompareWithFake(t testing.TB, a *app.App, sb *sandbox.Sandbox, platform string, ids map[string]string) ([]string, int) {
	t.Helper()
	exp := ComputeExpected(t, a, platform)
	var probs []string
	checked := 0
	prop := func(rk string, got map[string]string, want map[string]string) {
		for key, w := range want {
			name := ids[key]
			if name == "" && w == "" {
				continue
			}
			if g := got[name]; g != w {
				probs = append(probs, fmt.Sprintf("%s %s %s = %q, want %q", platform, rk, name, g, w))
			}
			checked++
		}
	}
	members := map[string]map[string]bool{} // list platform id → record keys
	switch platform {
	case sandbox.HubSpot:
		for rk, want := range exp.Props {
			obj, ok := sb.HubSpotFake.Get("contacts", strings.TrimPrefix(rk, "contact/"))
			if !ok {
				probs = append(probs, "hubspot "+rk+" missing")
				continue
			}
			prop(rk, obj.Properties, want)
		}
		for key, id := range ids {
			if strings.HasPrefix(key, "list:") {
				members[id] = map[string]bool{}
				for _, c := range sb.HubSpotFake.ListMembers(id) {
					members[id]["contact/"+c] = true
				}
			}
		}
	case sandbox.WooCommerce:
		for rk, want := range exp.Props {
			id, _ := strconv.Atoi(strings.TrimPrefix(rk, "contact/"))
			c, ok := sb.WooFake.Customer(id)
			if !ok {
				continue // a guest: no customer record to write to
			}
			meta := map[string]string{}
			for _, m := range c.MetaData {
				meta[m.Key] = fmt.Sprint(m.Value)
			}
			prop(rk, meta, want)
		}
	case sandbox.Salesforce:
		byID := map[string]map[string]string{}
		for _, obj := range []string{"Contact", "Lead"} {
			for _, r := range sb.SalesforceFake.Records(obj) {
				vals := map[string]string{}
				for k, v := range r {
					if v != nil {
						vals[k] = fmt.Sprint(v)
					}
				}
				byID[vals["Id"]] = vals
			}
		}
		for rk, want := range exp.Props {
			_, id, _ := strings.Cut(rk, "/")
			r, ok := byID[id]
			if !ok {
				probs = append(probs, "salesforce "+rk+" missing")
				continue
			}
			prop(rk, r, want)
		}
		for _, m := range sb.SalesforceFake.Records("CampaignMember") {
			camp := fmt.Sprint(m["CampaignId"])
			if members[camp] == nil {
				members[camp] = map[string]bool{}
			}
			for f, obj := range map[string]string{"ContactId": "contact", "LeadId": "lead"} {
				if v := m[f]; v != nil && v != "" {
					members[camp][obj+"/"+fmt.Sprint(v)] = true
				}
			}
		}
	}
	for key, id := range ids {
		if !strings.HasPrefix(key, "list:") || platform == sandbox.WooCommerce {
			continue
		}
		want := exp.Lists[key]
		checked += len(want)
		if !sameSet(members[id], want) {
			probs = append(probs, fmt.Sprintf("%s list %s: got %d members, want %d (missing %v, extra %v)",
				platform, key, len(members[id]), len(want), diff(want, members[id]), diff(members[id], want)))
		}
	}
	return probs, checked
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func diff(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	if len(out) > 5 {
		out = append(out[:5], "…")
	}
	return out
}
