package sandbox

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/segconn/connector/plugins/pardot/pardotfake"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Pardot is the platform of the Account Engagement (Pardot) adapter
// plugin, whose fake the sandbox serves with Options.Pardot.
const Pardot = "pardot"

// startPardot serves a fake Account Engagement business unit on l holding
// every person as a prospect, opted out of email when they declined the
// newsletter, some addresses typed with a capital first letter. A share
// of them has visitor activity (email opens and clicks, page views, form
// submissions), so the plugin's engagement counts have something to
// count; which and how many follow from the seed.
func (s *Sandbox) startPardot(l net.Listener) {
	f := pardotfake.New()
	f.ClientID = "3MVG9" + secretFor(s.seed, "pardot-client-id", 20)
	f.ClientSecret = secretFor(s.seed, "pardot-client-secret", 32)
	f.RefreshToken = "5Aep" + secretFor(s.seed, "pardot-refresh-token", 40)
	f.BusinessUnit = "0Uv" + strings.ToUpper(secretFor(s.seed, "pardot-business-unit", 15))
	f.URL = "http://" + l.Addr().String()
	ids := make([]int, len(s.Data.People))
	for i, per := range s.Data.People {
		p := f.AddProspect(typedEmail(i+2, per.Email), per.FirstName, per.LastName,
			per.Attributes["newsletter"] == "false", s.acquired(per))
		ids[i] = p.ID
	}
	for i, id := range ids {
		for _, typ := range pardotActivities(s.seed, i) {
			f.AddActivity(id, typ)
		}
	}
	s.PardotFake = f
	s.plugins[Pardot] = Endpoint{Platform: Pardot, BaseURL: f.URL,
		Credentials: map[string]string{"client_id": f.ClientID, "client_secret": f.ClientSecret,
			"refresh_token": f.RefreshToken, "business_unit_id": f.BusinessUnit},
		Config: adapter.Config{"client_id": f.ClientID, "client_secret": f.ClientSecret, "refresh_token": f.RefreshToken,
			"business_unit_id": f.BusinessUnit, "login_url": f.URL, "base_url": f.URL}}
	s.servePlugin(Pardot, l, f.Handler())
}

// pardotActivities are the visitor activity types of the i-th person: a
// third have none, the others between one and seven, mostly opens and
// page views, fewer clicks and form submissions.
func pardotActivities(seed uint64, i int) []int {
	h := secretFor(seed, fmt.Sprintf("pardot-activity/%d", i), 8)
	var n uint64
	for _, c := range h {
		n = n<<4 | uint64(strings.IndexRune("0123456789abcdef", c))
	}
	if n%3 == 0 {
		return nil
	}
	kinds := []int{pardotfake.TypeOpen, pardotfake.TypeView, pardotfake.TypeOpen, pardotfake.TypeView,
		pardotfake.TypeClick, pardotfake.TypeSuccess}
	count := 1 + int(n/3%7)
	out := make([]int, count)
	for j := range out {
		out[j] = kinds[int(n>>(4+j))%len(kinds)]
	}
	return out
}

// startPardotFake starts the Pardot fake when opts asks for it, on the
// listen address opts gives it or any free loopback port.
func (s *Sandbox) startPardotFake(ctx context.Context, opts Options) error {
	if !opts.Pardot {
		return nil
	}
	addr := opts.Listen[Pardot]
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := listenLoopback(ctx, addr)
	if err != nil {
		return fmt.Errorf("starting sandbox %s: %w", Pardot, err)
	}
	s.startPardot(l)
	return nil
}
