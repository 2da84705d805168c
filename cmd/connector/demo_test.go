package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/segconn/connector/internal/testenv"
)

// `connector demo --once` shows a fourth platform, Mailchimp, run through
// its adapter plugin as a plugin process (the built binary re-executing
// itself with plugin-serve mailchimp): its audience is pulled and the
// segments are written back to it without errors.
func TestDemoIncludesTheMailchimpPlugin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the connector and runs the demo's full cycle")
	}
	root := testenv.RepoRoot(t)
	bin := filepath.Join(t.TempDir(), "connector")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/connector")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the connector: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, bin, "demo", "--once", "--customers", "200", "-o", "json")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("demo: %v\n%s\n%s", err, out, stderr)
	}
	var rep struct {
		Pulled []struct {
			Platform string         `json:"platform"`
			Records  map[string]int `json:"records"`
		} `json:"pulled"`
		PullErrors map[string]string `json:"pull_errors"`
		Written    []struct {
			Platform  string `json:"platform"`
			OK        int    `json:"ok"`
			Permanent int    `json:"permanent"`
		} `json:"written"`
		PushErrors map[string]string         `json:"push_errors"`
		APICalls   map[string]map[string]int `json:"api_calls"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("demo -o json: %v\n%s", err, out)
	}
	platforms := map[string]int{}
	for _, p := range rep.Pulled {
		platforms[p.Platform] = p.Records["contact"]
	}
	if len(platforms) != 4 || platforms["mailchimp"] != 200 {
		t.Errorf("pulled %v; want four platforms, mailchimp with its 200 members", platforms)
	}
	if e := rep.PullErrors["mailchimp"] + rep.PushErrors["mailchimp"]; e != "" {
		t.Errorf("mailchimp errors: %s", e)
	}
	written := false
	for _, w := range rep.Written {
		if w.Platform == "mailchimp" {
			written = w.OK > 0 && w.Permanent == 0
			t.Logf("mailchimp: %d records written, %d API calls", w.OK, rep.APICalls["mailchimp"]["written"])
		}
	}
	if !written {
		t.Errorf("nothing written to mailchimp: %+v", rep.Written)
	}
}
