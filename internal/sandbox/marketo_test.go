package sandbox

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// With Marketo on, the sandbox serves a Marketo instance holding every
// person as a lead, and the Marketo plugin, run as a process with the
// sandbox's config entry, reads all of them and writes a segment back as
// a lead field and a static list.
func TestMarketoPluginAgainstTheSandbox(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Marketo plugin: skipped in -short mode")
	}
	ctx := context.Background()
	sb, err := Start(ctx, Options{Seed: 5, Customers: 40, Marketo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/marketo/cmd/connector-marketo")
	entry, err := sb.PluginConfig(Marketo, bin)
	if err != nil {
		t.Fatal(err)
	}
	a := sdktest.StartPlugin(t, bin)
	if err := a.Configure(ctx, entry.Config); err != nil {
		t.Fatal(err)
	}
	emails := map[string]string{}
	err = a.Pull(ctx, adapter.PullRequest{Object: domain.ObjectContact}, func(_ context.Context, p adapter.Page) error {
		for _, c := range p.Changes {
			if c.Contact != nil && len(c.Contact.Emails) > 0 {
				emails[strings.ToLower(c.Contact.Emails[0])] = c.Ref.ID
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(emails) != len(sb.Data.People) {
		t.Fatalf("pulled %d leads, the sandbox has %d people", len(emails), len(sb.Data.People))
	}
	for _, per := range sb.Data.People {
		if emails[strings.ToLower(per.Email)] == "" {
			t.Errorf("person %s is not a lead", per.Email)
		}
	}
	es, err := a.EnsureTargets(ctx, []adapter.Target{{Key: "seg", Kind: adapter.TargetProperty, Name: "segment"},
		{Key: "list:vip", Kind: adapter.TargetList, Name: "segment: vip"}})
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, e := range es {
		targets[e.Key] = e.PlatformID
	}
	id := emails[strings.ToLower(sb.Data.People[0].Email)]
	res, err := a.Push(ctx, adapter.PushRequest{Targets: targets, Items: []adapter.PushItem{{ID: "1",
		Ref:        domain.ExternalRef{Platform: Marketo, ObjectType: domain.ObjectContact, ID: id},
		Properties: map[string]string{"seg": "vip"}, Add: []string{"list:vip"}}}})
	if err != nil || res[0].Status != adapter.PushOK {
		t.Fatalf("push: %v %+v", err, res)
	}
	lead, _ := strconv.Atoi(id)
	if v, _ := sb.MarketoFake.Field(lead, targets["seg"]); v != "vip" {
		t.Errorf("lead %d: segment %q, want vip", lead, v)
	}
	if lists := sb.MarketoFake.ListsOf(lead); len(lists) != 1 || lists[0] != targets["list:vip"] {
		t.Errorf("lead %d in lists %v, want [%s]", lead, lists, targets["list:vip"])
	}
}
