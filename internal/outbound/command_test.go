package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestCommand(t *testing.T) {
	ctx := context.Background()
	q := openSQLite(t, filepath.Join(t.TempDir(), "q.db"))
	down := newReceiver(t, fixedClock(t0))
	down.always = http.StatusBadGateway
	d := newDispatcher(t, q, Endpoint{URL: down.URL + "/in?key=s3cr3t", Secret: secret, MaxAttempts: 1})
	if _, err := d.Publish(ctx, events(2, EventEntered)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RunOnce(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Publish(ctx, events(3, EventLeft)); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		root := &cobra.Command{Use: "connector", SilenceUsage: true, SilenceErrors: true}
		root.PersistentFlags().StringP("output", "o", "table", "")
		root.AddCommand(NewCommand(func(context.Context) (Queue, func(), error) { return q, func() {}, nil }))
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(args)
		if err := root.ExecuteContext(ctx); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	table := run("webhooks", "list")
	if strings.Count(table, "dead") != 2 || strings.Count(table, "pending") != 3 || strings.Contains(table, "s3cr3t") ||
		!strings.Contains(table, "502 Bad Gateway") {
		t.Fatalf("list:\n%s", table)
	}
	var ds []Delivery
	if err := json.Unmarshal([]byte(run("webhooks", "list", "--status", "dead", "-o", "json")), &ds); err != nil || len(ds) != 2 {
		t.Fatalf("json dead list: %v %+v", err, ds)
	}
	if s := run("webhooks", "list", "--summary"); !regexp.MustCompile(`dead\s+2\n`).MatchString(s) || !regexp.MustCompile(`pending\s+3\n`).MatchString(s) {
		t.Fatalf("summary:\n%s", s)
	}
	if s := run("webhooks", "retry", "1"); !strings.Contains(s, "re-queued 1") {
		t.Fatalf("retry: %s", s)
	}
	if p, _ := Pending(ctx, q, "", 0); len(p) != 4 {
		t.Fatalf("%d pending after retry, want 4", len(p))
	}
}
