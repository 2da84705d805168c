package csvfolder_test

import (
	"testing"

	"github.com/segconn/connector/domain"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdktest"
)

func TestConformanceInProcess(t *testing.T) {
	sdktest.RunConformance(t, csvfake.Harness(domain.ObjectContact))
}

func TestConformanceOrders(t *testing.T) {
	sdktest.RunConformance(t, csvfake.Harness(domain.ObjectOrder))
}

func TestConformanceGRPC(t *testing.T) {
	sdktest.RunConformance(t, sdktest.GRPC(csvfake.Harness(domain.ObjectContact)))
}

func TestConformanceSubprocess(t *testing.T) {
	bin := sdktest.Build(t, "github.com/segconn/connector/plugins/examples/csvfolder/cmd/connector-csvfolder")
	sdktest.RunConformance(t, sdktest.Subprocess(csvfake.Harness(domain.ObjectContact), bin))
}
