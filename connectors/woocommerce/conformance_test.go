package woocommerce

import (
	"log/slog"
	"testing"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

func conformanceHarness() sdktest.Harness {
	return woocommercefake.Harness(func(testing.TB) adapter.Adapter { return New(slog.New(slog.DiscardHandler)) })
}

func TestConformance(t *testing.T) {
	sdktest.RunConformance(t, conformanceHarness())
}

func TestConformanceOverGRPC(t *testing.T) {
	sdktest.RunConformance(t, sdktest.GRPC(conformanceHarness()))
}
