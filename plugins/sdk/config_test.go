package sdk_test

import (
	"context"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

type pluginConfig struct {
	Folder   string        `spec:"folder,required" doc:"folder holding the CSV files"`
	Every    time.Duration `spec:"every" default:"5m" min:">0" doc:"poll interval"`
	PageSize int           `spec:"page_size" default:"100" min:"1" max:"500" doc:"rows per page"`
}

// recorder is a read-only plugin that keeps the config it was given.
type recorder struct {
	sdk.Unimplemented
	gotCfg adapter.Config
}

func (r *recorder) Describe(context.Context) (adapter.Descriptor, error) {
	return adapter.Descriptor{Name: "recorder", Version: "1"}, nil
}
func (r *recorder) Configure(_ context.Context, c adapter.Config) error { r.gotCfg = c; return nil }
func (r *recorder) Pull(context.Context, adapter.PullRequest, adapter.PageSink) error {
	return nil
}
func (r *recorder) Close(context.Context) error { return nil }

// The config crosses the plugin protocol as a protobuf Struct, where every
// number is a float64; the decoder still gives the struct an int.
func TestDecodeConfigThroughTheProtocol(t *testing.T) {
	s := &recorder{}
	a := sdktest.OverGRPC(t, sdk.Adapt(s))
	if err := a.Configure(context.Background(), adapter.Config{"folder": " /srv/x ", "page_size": 250, "every": "90s"}); err != nil {
		t.Fatal(err)
	}
	if _, isFloat := s.gotCfg["page_size"].(float64); !isFloat {
		t.Fatalf("the protocol no longer turns numbers into float64 (%T): this test needs a new premise", s.gotCfg["page_size"])
	}
	var c pluginConfig
	ds := sdk.DecodeConfig(s.gotCfg, &c)
	if len(ds) != 0 {
		t.Fatalf("diagnostics: %v", ds)
	}
	if c != (pluginConfig{Folder: "/srv/x", Every: 90 * time.Second, PageSize: 250}) {
		t.Fatalf("decoded %+v", c)
	}
	ds = sdk.DecodeConfig(adapter.Config{"page_size": 2.5, "folder_": "x"}, &c)
	want := []string{"folder_: unknown key (did you mean folder?)", "page_size: must be a whole number (got a number (2.5))", "folder: is required (folder holding the CSV files)"}
	if len(ds) != len(want) {
		t.Fatalf("got %v, want %v", ds, want)
	}
	for i, d := range ds {
		if d.String() != want[i] {
			t.Errorf("diagnostic %d = %q, want %q", i, d.String(), want[i])
		}
	}
	schema := sdk.ConfigSchema(pluginConfig{})
	if len(schema) != 3 || !schema[0].Required || schema[1].Type != adapter.FieldDuration || schema[2].Default != "100" {
		t.Fatalf("schema %+v", schema)
	}
}
