package csvfolder_test

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/examples/csvfolder/csvfake"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
	"github.com/segconn/connector/plugins/sdk/wire"
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

	t.Run("RunByHand", func(t *testing.T) {
		out, err := exec.Command(bin, wire.DescribeFlag).Output()
		if err != nil {
			t.Fatalf("%s: %v", wire.DescribeFlag, err)
		}
		var d wire.Description
		if err := json.Unmarshal(out, &d); err != nil || d.Adapter.Name != csvfolder.Name || !slices.Equal(d.ProtocolVersions, []int{1}) {
			t.Fatalf("%s printed %s (%v)", wire.DescribeFlag, out, err)
		}
		var stderr bytes.Buffer
		cmd := exec.Command(bin)
		cmd.Stderr = &stderr
		if err := cmd.Run(); err == nil || !strings.Contains(stderr.String(), wire.DescribeFlag) {
			t.Fatalf("run without a host: %v, stderr %q; want a failure pointing at %s", err, stderr.String(), wire.DescribeFlag)
		}
	})
}
