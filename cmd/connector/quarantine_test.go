package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/internal/app"
)

// TestQuarantineListShowRetry: a WooCommerce order with a currency that
// is not ISO 4217 is quarantined by sync; `quarantine list` and `show` give
// its reason and raw record; `retry` leaves it quarantined while it is
// still wrong (exit 1) and stores it once fixed at the source (exit 0),
// after which the quarantine is empty.
func TestQuarantineListShowRetry(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI against fake platforms")
	}
	sb, cfg := sandboxConfigFile(t, 60)
	orderID := sb.WooFake.OrderIDs()[0]
	sb.WooFake.UpdateOrder(orderID, func(o *woocommercefake.Order) { o.Currency = "dollars" })
	if code, _, errOut := runCLI(t, nil, "sync", "woocommerce", "-c", cfg); code != exitOK {
		t.Fatalf("sync: exit %d\n%s", code, errOut)
	}

	code, out, errOut := runCLI(t, nil, "quarantine", "list", "-o", "json", "-c", cfg)
	if code != exitOK {
		t.Fatalf("quarantine list: exit %d\n%s", code, errOut)
	}
	var list []quarantinedView
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("quarantine list -o json: %v\n%s", err, out)
	}
	if len(list) != 1 || list[0].Record != strconv.Itoa(orderID) || !strings.Contains(list[0].Reason, "currency") {
		t.Fatalf("quarantine list: %+v, want order %d with a currency reason", list, orderID)
	}
	qid := strconv.FormatInt(list[0].ID, 10)
	if code, out, _ := runCLI(t, nil, "quarantine", "show", qid, "-c", cfg); code != exitOK || !strings.Contains(out, `"dollars"`) {
		t.Errorf("quarantine show: exit %d, want the raw record:\n%s", code, out)
	}

	code, out, _ = runCLI(t, nil, "quarantine", "retry", qid, "-c", cfg)
	if code != exitError || !strings.Contains(out, app.RetryStill) {
		t.Errorf("retry while still wrong: exit %d, want %d and %s:\n%s", code, exitError, app.RetryStill, out)
	}

	sb.WooFake.UpdateOrder(orderID, func(o *woocommercefake.Order) { o.Currency = "USD" })
	code, out, errOut = runCLI(t, nil, "quarantine", "retry", "--all", "-c", cfg)
	if code != exitOK || !strings.Contains(out, app.RetryStored) {
		t.Fatalf("retry once fixed: exit %d, want %s:\n%s%s", code, app.RetryStored, out, errOut)
	}
	if code, out, _ := runCLI(t, nil, "quarantine", "list", "-c", cfg); code != exitOK || !strings.Contains(out, "No quarantined records") {
		t.Errorf("after the retry: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{{"quarantine", "retry"}, {"quarantine", "retry", "x1"}, {"quarantine", "show"}} {
		if code, _, _ := runCLI(t, nil, append(bad, "-c", cfg)...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", bad, code, exitUsage)
		}
	}
}
