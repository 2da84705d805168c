package hubspot

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// TestWritePacingFollowsTheBudget: live property writes may spend 70% of
// the tier's request budget, list changes wait for the configured
// interval, and an interval of 0 turns pacing off.
func TestWritePacingFollowsTheBudget(t *testing.T) {
	t.Parallel()
	pacing := func(cfg adapter.Config) adapter.WritePacing {
		t.Helper()
		c := New(nil)
		if err := c.Configure(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		return c.WritePacing()
	}
	// Professional: 190 per 10 s less burst (9) and slack (3) is 17.8/s;
	// 70% of it is one property write per 80.3 ms, and 20% one list
	// call per 281 ms.
	pro := pacing(adapter.Config{"token": "t"})
	perSecond, share := 17.8, 0.7
	want := time.Duration(float64(time.Second) / (perSecond * share))
	if d := pro.PropertyEvery - want; d < -time.Microsecond || d > time.Microsecond || pro.MembershipEvery != 2*time.Second {
		t.Errorf("professional pacing = %+v; want property every %v, memberships every 2s", pro, want)
	}
	// Starter: 100 per 10 s → 9.3/s, so property writes are spaced wider.
	starter := pacing(adapter.Config{"token": "t", "tier": "starter", "write_back": map[string]any{"membership_interval": "5s"}})
	if starter.PropertyEvery <= pro.PropertyEvery || starter.MembershipEvery != 5*time.Second {
		t.Errorf("starter pacing = %+v; want wider than professional's %v and memberships every 5s", starter, pro.PropertyEvery)
	}
	if want := time.Duration(float64(time.Second) / (perSecond * 0.2)); pro.MembershipCallEvery-want > time.Microsecond || want-pro.MembershipCallEvery > time.Microsecond {
		t.Errorf("professional list calls every %v; want %v", pro.MembershipCallEvery, want)
	}
	if off := pacing(adapter.Config{"token": "t", "write_back": map[string]any{"membership_interval": "0s"}}); off != (adapter.WritePacing{}) {
		t.Errorf("membership_interval 0 gives pacing %+v; want none", off)
	}
	ds, _ := New(nil).ValidateConfig(context.Background(), adapter.Config{"token": "t", "write_back": map[string]any{"membership_interval": "-1s"}})
	if all := fmt.Sprint(ds); !strings.Contains(all, "platforms.hubspot.write_back.membership_interval: must not be negative") {
		t.Errorf("negative interval diagnostics = %s", all)
	}
}
