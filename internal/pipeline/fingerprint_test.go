package pipeline

import (
	"testing"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestFingerprintCoversWhatIsWritten: the fingerprint ignores the order a
// plan was built in and changes with anything a plan would write.
func TestFingerprintCoversWhatIsWritten(t *testing.T) {
	ref := domain.ExternalRef{Platform: "hubspot", ObjectType: domain.ObjectContact, ID: "1"}
	item := func(v string) adapter.PushItem {
		return adapter.PushItem{ID: ref.Key(), Ref: ref, Properties: map[string]string{"prop:rfm": v}, Add: []string{"list:a"}}
	}
	base := func() *Plan {
		return &Plan{
			Memberships: []store.MembershipChange{{ProfileID: "p1", Segment: "a", Entered: true}, {ProfileID: "p0", Segment: "b"}},
			Platforms:   []PlatformPlan{{Platform: "hubspot", Items: []adapter.PushItem{item("x"), {ID: "z", Remove: []string{"list:b"}}}}},
		}
	}
	fp := fingerprint(base())
	reordered := base()
	reordered.Memberships[0], reordered.Memberships[1] = reordered.Memberships[1], reordered.Memberships[0]
	reordered.Platforms[0].Items[0], reordered.Platforms[0].Items[1] = reordered.Platforms[0].Items[1], reordered.Platforms[0].Items[0]
	if got := fingerprint(reordered); got != fp {
		t.Errorf("the same plan in another order: %s, want %s", got, fp)
	}
	changes := map[string]func(*Plan){
		"property value": func(p *Plan) { p.Platforms[0].Items[0] = item("y") },
		"list removed":   func(p *Plan) { p.Platforms[0].Items[1].Remove = []string{"list:c"} },
		"holdout":        func(p *Plan) { p.Memberships[0].Control = true },
		"entry to exit":  func(p *Plan) { p.Memberships[0].Entered = false },
		"another record": func(p *Plan) { p.Platforms[0].Items[0].Ref.ID = "2" },
	}
	for name, change := range changes {
		p := base()
		change(p)
		if fingerprint(p) == fp {
			t.Errorf("%s: the fingerprint did not change", name)
		}
	}
}
