package daemon_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/sandbox"
)

// handMade names values a person set by hand, which must survive.
type handMade struct {
	hubspotList    string // list target key
	hubspotContact string
	wooCustomer    int
}

// mismatches compares one fake platform's state with what the core
// computed (computeExpected) and returns every difference, and how many
// values it compared.
func mismatches(t *testing.T, env *testEnv, sb *sandbox.Sandbox, platform string, hand handMade) ([]string, int) {
	t.Helper()
	exp := computeExpected(t, env, platform)
	ids := env.Pipeline.TargetIDs(platform)
	var probs []string
	checked := 0
	switch platform {
	case sandbox.HubSpot:
		for rk, props := range exp.props {
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
			for k := range exp.lists[key] {
				want[k] = true
			}
			if key == hand.hubspotList && hand.hubspotContact != "" {
				if !got["contact/"+hand.hubspotContact] {
					probs = append(probs, fmt.Sprintf("the contact a person added by hand to %s was removed", key))
				}
				delete(got, "contact/"+hand.hubspotContact)
				delete(want, "contact/"+hand.hubspotContact)
			}
			checked += len(want)
			if !sameSet(got, want) {
				probs = append(probs, fmt.Sprintf("hubspot list %s: got %d members, want %d (missing %v, extra %v)", key, len(got), len(want), diff(want, got), diff(got, want)))
			}
		}
	case sandbox.WooCommerce:
		for rk, props := range exp.props {
			id, _ := strconv.Atoi(strings.TrimPrefix(rk, "contact/"))
			c, ok := sb.WooFake.Customer(id)
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
						probs = append(probs, fmt.Sprintf("woocommerce customer %d meta %s = %q, want %q", id, name, got, want))
					}
					checked++
				}
			}
			if id == hand.wooCustomer && meta["_vip_note"] != "set by hand" {
				probs = append(probs, fmt.Sprintf("the meta a person set by hand on customer %d was changed: %q", id, meta["_vip_note"]))
			}
		}
	case sandbox.Salesforce:
		byID := map[string]map[string]any{}
		for _, obj := range []string{"Contact", "Lead"} {
			for _, r := range sb.SalesforceFake.Records(obj) {
				byID[fmt.Sprint(r["Id"])] = r
			}
		}
		for rk, props := range exp.props {
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
				checked += len(exp.lists[key])
				if !sameSet(members[camp], exp.lists[key]) {
					probs = append(probs, fmt.Sprintf("salesforce campaign %s (%s): got %d members, want %d", camp, key, len(members[camp]), len(exp.lists[key])))
				}
			}
		}
	}
	return probs, checked
}
