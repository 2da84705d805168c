package pardot_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/segconn/connector/plugins/pardot"
	"github.com/segconn/connector/plugins/pardot/pardotfake"
	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

func refsOf(ps []*pardotfake.Prospect) []domain.ExternalRef {
	out := make([]domain.ExternalRef, len(ps))
	for i, p := range ps {
		out[i] = domain.ExternalRef{Platform: pardot.Name, ObjectType: domain.ObjectContact, ID: strconv.Itoa(p.ID)}
	}
	return out
}

func config(f *pardotfake.Fake) adapter.Config {
	return adapter.Config{"client_id": f.ClientID, "client_secret": f.ClientSecret, "refresh_token": f.RefreshToken,
		"business_unit_id": f.BusinessUnit, "login_url": f.URL, "base_url": f.URL}
}

func configured(t *testing.T, f *pardotfake.Fake) *pardot.Plugin {
	t.Helper()
	p := pardot.New()
	if err := p.Configure(context.Background(), config(f)); err != nil {
		t.Fatal(err)
	}
	return p
}

func harness() sdktest.Harness {
	return sdktest.Harness{
		Name: "pardot",
		New:  func(testing.TB) adapter.Adapter { return sdk.Adapt(pardot.New()) },
		Start: func(t testing.TB) *sdktest.Fake {
			f := pardotfake.Start(t.Cleanup)
			return &sdktest.Fake{
				Config:      config(f),
				Seed:        func(n int) ([]domain.ExternalRef, error) { return refsOf(f.Seed(n)), nil },
				PageSize:    10,
				MaxPageSize: pardotfake.MaxLimit,
				MissingID:   "999999999",
				RateLimit:   f.RateLimit,
				RejectPush: func(r domain.ExternalRef) {
					id, _ := strconv.Atoi(r.ID)
					f.RejectProspect(id)
				},
				Membership: func(r domain.ExternalRef) (map[string]string, []string, error) {
					id, _ := strconv.Atoi(r.ID)
					return f.Properties(id), f.ListsOf(id), nil
				},
			}
		},
	}
}

func TestConformance(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, harness())
}

func TestConformanceOverGRPC(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, sdktest.GRPC(harness()))
}

func TestConformanceAsProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the plugin program")
	}
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/pardot/cmd/connector-pardot")
	sdktest.RunConformance(t, sdktest.Subprocess(harness(), bin))
}
