package daemon

import (
	"path/filepath"
	"strings"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/internal/sandbox"
)

// SandboxConfig returns a configuration pointing every platform at a
// running sandbox, with an SQLite store in dir and default segments.
func SandboxConfig(sb *sandbox.Sandbox, dir string) *config.Loaded {
	cfg := config.Defaults()
	cfg.Store.Path = filepath.Join(dir, "connector.db")
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Platforms = sb.Configs()
	l := &config.Loaded{Config: cfg}
	for _, e := range sb.Endpoints() {
		for _, v := range e.Credentials {
			l.SecretValues = append(l.SecretValues, v)
		}
	}
	return l
}

// PrepareSandbox does what a Salesforce admin does once before write-back
// can start: create the custom fields the segment definitions write to.
func PrepareSandbox(sb *sandbox.Sandbox, l *config.Loaded) error {
	defs, err := SegmentDefinitions(l)
	if err != nil {
		return err
	}
	for _, d := range defs {
		t, ok := d.Writeback[sandbox.Salesforce]
		if !ok {
			continue
		}
		var names []string
		if t.Property != "" {
			names = append(names, t.Property)
		}
		if t.Tag {
			names = append(names, pipeline.TagsProperty)
		}
		for _, n := range names {
			if !strings.HasSuffix(n, "__c") {
				n += "__c"
			}
			for _, obj := range []string{"Contact", "Lead"} {
				sb.SalesforceFake.AddField(obj, n, salesforcefake.TypeTextArea)
			}
		}
	}
	return nil
}
