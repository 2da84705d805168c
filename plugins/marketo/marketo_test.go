package marketo_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/segconn/connector/plugins/marketo"
	"github.com/segconn/connector/plugins/marketo/marketofake"
	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

func refsOf(ls []*marketofake.Lead) []domain.ExternalRef {
	out := make([]domain.ExternalRef, len(ls))
	for i, l := range ls {
		out[i] = domain.ExternalRef{Platform: marketo.Name, ObjectType: domain.ObjectContact, ID: strconv.Itoa(l.ID)}
	}
	return out
}

func config(f *marketofake.Fake) adapter.Config {
	return adapter.Config{"client_id": f.ClientID, "client_secret": f.ClientSecret, "base_url": f.URL}
}

func configured(t *testing.T, f *marketofake.Fake) *marketo.Plugin {
	t.Helper()
	p := marketo.New()
	if err := p.Configure(context.Background(), config(f)); err != nil {
		t.Fatal(err)
	}
	return p
}

func harness() sdktest.Harness {
	return sdktest.Harness{
		Name: "marketo",
		New:  func(testing.TB) adapter.Adapter { return sdk.Adapt(marketo.New()) },
		Start: func(t testing.TB) *sdktest.Fake {
			f := marketofake.Start(t.Cleanup)
			return &sdktest.Fake{
				Config:      config(f),
				Seed:        func(n int) ([]domain.ExternalRef, error) { return refsOf(f.Seed(n)), nil },
				PageSize:    10,
				MaxPageSize: 300,
				MissingID:   "99999999",
				RateLimit:   f.RateLimit,
				RejectPush: func(r domain.ExternalRef) {
					id, _ := strconv.Atoi(r.ID)
					f.RejectLead(id)
				},
				Membership: func(r domain.ExternalRef) (map[string]string, []string, error) {
					id, _ := strconv.Atoi(r.ID)
					props, err := f.Fields(id)
					if err != nil {
						return nil, nil, err
					}
					return props, f.ListsOf(id), nil
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

func TestConformanceAsAProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin: skipped in -short mode")
	}
	t.Parallel()
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/marketo/cmd/connector-marketo")
	sdktest.RunConformance(t, sdktest.Subprocess(harness(), bin))
}

// pullAll pulls from cur to the end and returns the contacts by id, the
// deleted ids and the last cursor.
func pullAll(t *testing.T, p *marketo.Plugin, cur string) (map[string]*domain.Contact, map[string]bool, string) {
	t.Helper()
	byID, gone := map[string]*domain.Contact{}, map[string]bool{}
	err := p.Pull(context.Background(), adapter.PullRequest{Object: domain.ObjectContact, Cursor: cur},
		func(_ context.Context, pg adapter.Page) error {
			for _, c := range pg.Changes {
				if c.Kind == adapter.ChangeDelete {
					gone[c.Ref.ID] = true
				} else {
					byID[c.Ref.ID] = c.Contact
				}
			}
			cur = pg.Cursor
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	return byID, gone, cur
}
