package salesforce

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// TestWritePacingHoldsCampaignChanges: by default the daemon is asked to
// send field updates at the request rate (at most ten rounds a second) and Campaign membership changes
// every second; campaign_interval 0 turns pacing off, and a negative one
// is refused, naming the key.
func TestWritePacingHoldsCampaignChanges(t *testing.T) {
	t.Parallel()
	f := startFake(t, salesforcefake.Options{})
	pacing := func(extra map[string]any) adapter.WritePacing {
		t.Helper()
		c := New(nil)
		if err := c.Configure(context.Background(), merge(baseConfig(f), extra)); err != nil {
			t.Fatal(err)
		}
		return c.WritePacing()
	}
	got := pacing(map[string]any{"rate": map[string]any{"requests_per_second": 20}})
	want := adapter.WritePacing{PropertyEvery: 100 * time.Millisecond, MembershipEvery: time.Second, MembershipCallEvery: 50 * time.Millisecond}
	if got != want {
		t.Errorf("pacing at 20 requests/s = %+v; want %+v (field updates at most 10 rounds a second)", got, want)
	}
	if got := pacing(map[string]any{"rate": map[string]any{"requests_per_second": 4}}); got.PropertyEvery != 250*time.Millisecond {
		t.Errorf("pacing at 4 requests/s = %+v; want field updates every 250ms", got)
	}
	if got := pacing(map[string]any{"write_back": map[string]any{"campaign_interval": "3s"}}); got.MembershipEvery != 3*time.Second {
		t.Errorf("campaign_interval 3s gives %+v", got)
	}
	if off := pacing(map[string]any{"write_back": map[string]any{"campaign_interval": "0s"}}); off != (adapter.WritePacing{}) {
		t.Errorf("campaign_interval 0 gives pacing %+v; want none", off)
	}
	if got := New(nil).WritePacing(); got != (adapter.WritePacing{}) {
		t.Errorf("an unconfigured connector asks for pacing %+v", got)
	}
	ds, _ := New(nil).ValidateConfig(context.Background(), merge(baseConfig(f), map[string]any{"write_back": map[string]any{"campaign_interval": "-1s"}}))
	if all := fmt.Sprint(ds); !strings.Contains(all, "platforms.salesforce.write_back.campaign_interval: ") || !strings.Contains(all, "-1s") {
		t.Errorf("a negative campaign_interval gave diagnostics %s", all)
	}
}
