package salesforce

import (
	"log/slog"
	"testing"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

func conformanceHarness() sdktest.Harness {
	return salesforcefake.Harness(func(testing.TB) adapter.Adapter { return New(slog.New(slog.DiscardHandler)) })
}

func TestConformance(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, conformanceHarness())
}

func TestConformanceOverGRPC(t *testing.T) {
	t.Parallel()
	sdktest.RunConformance(t, sdktest.GRPC(conformanceHarness()))
}
