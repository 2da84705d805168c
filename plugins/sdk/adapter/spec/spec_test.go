package spec_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

type inner struct {
	Max  int           `spec:"max" default:"4" min:"0" doc:"retries"`
	Wait time.Duration `spec:"wait" default:"200ms" min:"0" max:"1m" doc:"first wait"`
}

type sample struct {
	BaseURL  string            `spec:"base_url,url" default:"https://api.example.com" doc:"API host"`
	Token    string            `spec:"token,secret,required" doc:"bearer token"`
	Mode     string            `spec:"mode" default:"auto" enum:"auto,basic" doc:"auth mode"`
	Account  string            `spec:"account" doc:"account id"`
	Page     int               `spec:"page_size" default:"100" min:"1" max:"100" doc:"page size"`
	Share    float64           `spec:"share" default:"0.8" min:">0" max:"1" doc:"share of the quota"`
	Rate     float64           `spec:"rate" default:"5" min:">0" doc:"requests per second"`
	Lag      time.Duration     `spec:"lag" default:"5s" min:"0" doc:"lag"`
	Every    time.Duration     `spec:"every" default:"1m" min:">0" doc:"interval"`
	On       bool              `spec:"on" default:"true" doc:"switch"`
	Opt      *bool             `spec:"opt" doc:"optional switch"`
	Tags     []string          `spec:"tags" default:"a,b" enum:"a,b,c" doc:"tags"`
	Status   map[string]string `spec:"status_map" enum:"open,closed" doc:"statuses"`
	ClientID string            `spec:"auth.client_id" doc:"dotted key in a flat struct"`
	Retry    inner             `spec:"retry"`
	Skipped  string            `spec:"-"`
	internal int               // unexported: not part of the spec
}

var _ = sample{}.internal

func decode(t *testing.T, raw map[string]any) (sample, string) {
	t.Helper()
	var s sample
	ds := spec.Decode(raw, "platforms.x", &s)
	var lines []string
	for _, d := range ds {
		lines = append(lines, d.String())
	}
	return s, strings.Join(lines, "\n")
}

func TestDecodeDefaultsAndValues(t *testing.T) {
	s, diags := decode(t, map[string]any{"token": "tok"})
	if diags != "" {
		t.Fatalf("diagnostics for a minimal config: %s", diags)
	}
	want := sample{BaseURL: "https://api.example.com", Token: "tok", Mode: "auto", Page: 100, Share: 0.8, Rate: 5, Lag: 5 * time.Second,
		Every: time.Minute, On: true, Tags: []string{"a", "b"}, Retry: inner{Max: 4, Wait: 200 * time.Millisecond}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", s, want)
	}

	yes := true
	cases := []struct {
		name string
		raw  map[string]any
		want func(*sample)
	}{
		{"string trimmed", map[string]any{"account": "  acme "}, func(s *sample) { s.Account = "acme" }},
		{"whole number as string", map[string]any{"account": 12345678}, func(s *sample) { s.Account = "12345678" }},
		{"int", map[string]any{"page_size": 50}, func(s *sample) { s.Page = 50 }},
		{"int64", map[string]any{"page_size": int64(50)}, func(s *sample) { s.Page = 50 }},
		{"whole float as int", map[string]any{"page_size": 50.0}, func(s *sample) { s.Page = 50 }},
		{"int from string", map[string]any{"page_size": " 50 "}, func(s *sample) { s.Page = 50 }},
		{"number", map[string]any{"share": 0.5}, func(s *sample) { s.Share = 0.5 }},
		{"number from int", map[string]any{"rate": 20}, func(s *sample) { s.Rate = 20 }},
		{"number from string", map[string]any{"share": "0.25"}, func(s *sample) { s.Share = 0.25 }},
		{"percentage", map[string]any{"share": "80%"}, func(s *sample) { s.Share = 0.8 }},
		{"duration with unit", map[string]any{"lag": "1h30m"}, func(s *sample) { s.Lag = 90 * time.Minute }},
		{"duration as seconds", map[string]any{"lag": 90}, func(s *sample) { s.Lag = 90 * time.Second }},
		{"duration as fractional seconds", map[string]any{"lag": 1.5}, func(s *sample) { s.Lag = 1500 * time.Millisecond }},
		{"bool", map[string]any{"on": false}, func(s *sample) { s.On = false }},
		{"bool from string", map[string]any{"on": "FALSE"}, func(s *sample) { s.On = false }},
		{"pointer set", map[string]any{"opt": true}, func(s *sample) { s.Opt = &yes }},
		{"list", map[string]any{"tags": []any{"c"}}, func(s *sample) { s.Tags = []string{"c"} }},
		{"list from comma string", map[string]any{"tags": "a, c,"}, func(s *sample) { s.Tags = []string{"a", "c"} }},
		{"empty list", map[string]any{"tags": []any{}}, func(s *sample) { s.Tags = []string{} }},
		{"map", map[string]any{"status_map": map[string]any{"wc-shipped": "closed"}}, func(s *sample) { s.Status = map[string]string{"wc-shipped": "closed"} }},
		{"dotted key", map[string]any{"auth": map[string]any{"client_id": "id"}}, func(s *sample) { s.ClientID = "id" }},
		{"section", map[string]any{"retry": map[string]any{"max": 0, "wait": "1s"}}, func(s *sample) { s.Retry = inner{Max: 0, Wait: time.Second} }},
		{"adapter.Config section", map[string]any{"retry": adapter.Config{"max": 2}}, func(s *sample) { s.Retry.Max = 2 }},
		{"null keeps the default", map[string]any{"page_size": nil, "retry": nil}, func(*sample) {}},
		{"enabled belongs to the host", map[string]any{"enabled": true}, func(*sample) {}},
		{"secret file tolerated", map[string]any{"token_file": "/run/secrets/t"}, func(*sample) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]any{"token": "tok"}
			for k, v := range tc.raw {
				raw[k] = v
			}
			got, diags := decode(t, raw)
			if diags != "" {
				t.Fatalf("diagnostics: %s", diags)
			}
			w := want
			w.Tags = []string{"a", "b"}
			tc.want(&w)
			if !reflect.DeepEqual(got, w) {
				t.Fatalf("\n got %+v\nwant %+v", got, w)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		name string
		raw  map[string]any
		want string // the whole diagnostic output
	}{
		{"unknown key suggests the nearest", map[string]any{"page_szie": 10},
			"platforms.x.page_szie: unknown key (did you mean page_size?)"},
		{"unknown key lists the section's keys", map[string]any{"retry": map[string]any{"colour": 1}},
			"platforms.x.retry.colour: unknown key (known keys here: max, wait)"},
		{"file of a non-secret is unknown", map[string]any{"account_file": "/x"},
			"platforms.x.account_file: unknown key (account is not a secret; only secrets may be given as a file)"},
		{"unknown key far from any", map[string]any{"zzzzzzzzzz": 1},
			"platforms.x.zzzzzzzzzz: unknown key (known keys here: base_url, token, mode, account, page_size, share, rate, lag, every, on, opt, tags, status_map, auth, retry)"},
		{"section must be a mapping", map[string]any{"retry": 5},
			"platforms.x.retry: must be a mapping (got a number (5))"},
		{"string", map[string]any{"account": true},
			"platforms.x.account: must be a string (got a boolean (true))"},
		{"int", map[string]any{"page_size": "fifty"},
			`platforms.x.page_size: must be a whole number (got a string "fifty")`},
		{"int not fractional", map[string]any{"page_size": 1.5},
			"platforms.x.page_size: must be a whole number (got a number (1.5))"},
		{"number", map[string]any{"share": "most"},
			`platforms.x.share: must be a number (got a string "most")`},
		{"strict bool", map[string]any{"on": "yes"},
			`platforms.x.on: must be true or false (got a string "yes")`},
		{"bool is not a number", map[string]any{"on": 1},
			"platforms.x.on: must be true or false (got a number (1))"},
		{"duration needs a unit", map[string]any{"lag": "5"},
			`platforms.x.lag: must be a duration with a unit, such as 30s, 5m or 1h30m (got a string "5")`},
		{"list", map[string]any{"tags": map[string]any{}},
			"platforms.x.tags: must be a list of strings (got a mapping)"},
		{"list element", map[string]any{"tags": []any{"a", []any{}}},
			"platforms.x.tags[1]: must be a string (got a list)"},
		{"map", map[string]any{"status_map": []any{"open"}},
			"platforms.x.status_map: must be a mapping of names to strings (got a list)"},
		{"map value", map[string]any{"status_map": map[string]any{"s": false}},
			"platforms.x.status_map.s: must be a string (got a boolean (false))"},
		{"url", map[string]any{"base_url": "api.example.com"},
			`platforms.x.base_url: must be an absolute http(s) URL (got "api.example.com")`},
		{"enum", map[string]any{"mode": "digest"},
			`platforms.x.mode: must be one of auto, basic (got "digest")`},
		{"enum in a list", map[string]any{"tags": []any{"a", "z"}},
			`platforms.x.tags[1]: must be one of a, b, c (got "z")`},
		{"enum in a map", map[string]any{"status_map": map[string]any{"s": "gone"}},
			`platforms.x.status_map.s: must be one of open, closed (got "gone")`},
		{"between", map[string]any{"page_size": 101},
			"platforms.x.page_size: must be between 1 and 100 (got 101)"},
		{"exclusive min and max", map[string]any{"share": 0},
			"platforms.x.share: must be greater than 0 and at most 1 (got 0)"},
		{"positive", map[string]any{"rate": -1},
			"platforms.x.rate: must be positive (got -1)"},
		{"positive duration", map[string]any{"every": "0s"},
			"platforms.x.every: must be positive (got 0s)"},
		{"not negative", map[string]any{"lag": "-1s"},
			"platforms.x.lag: must not be negative (got -1s)"},
		{"duration max", map[string]any{"retry": map[string]any{"wait": "2m"}},
			"platforms.x.retry.wait: must be between 0 and 1m (got 2m0s)"},
		{"required absent", map[string]any{"token": nil},
			"platforms.x.token: is required (bearer token)"},
		{"required empty", map[string]any{"token": " "},
			"platforms.x.token: is required (bearer token)"},
		{"secret values are never echoed", map[string]any{"token": []any{"s3cr3t"}},
			"platforms.x.token: must be a string (got a list)"},
		{"every problem at once, sorted by key", map[string]any{"page_size": 0, "mode": "x"},
			"platforms.x.mode: must be one of auto, basic (got \"x\")\nplatforms.x.page_size: must be between 1 and 100 (got 0)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := map[string]any{"token": "tok"}
			for k, v := range tc.raw {
				raw[k] = v
			}
			got, diags := decode(t, raw)
			if diags != tc.want {
				t.Fatalf("\n got %s\nwant %s", diags, tc.want)
			}
			if strings.Contains(diags, "s3cr3t") {
				t.Fatal("a secret value leaked")
			}
			// A key with an error keeps its default.
			if tc.name == "between" && got.Page != 100 {
				t.Fatalf("page_size after an error = %d, want the default 100", got.Page)
			}
		})
	}
}

func TestGiven(t *testing.T) {
	raw := map[string]any{"a": map[string]any{"b": 0, "n": nil}, "c": adapter.Config{"d": ""}}
	for path, want := range map[string]bool{"a": true, "a.b": true, "a.n": false, "a.x": false, "c.d": true, "b": false, "a.b.c": false} {
		if got := spec.Given(raw, path); got != want {
			t.Errorf("Given(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestFields(t *testing.T) {
	fs := spec.Fields(&sample{})
	byName := map[string]adapter.ConfigField{}
	var names []string
	for _, f := range fs {
		byName[f.Name] = f
		names = append(names, f.Name)
	}
	wantNames := "base_url token mode account page_size share rate lag every on opt tags status_map auth.client_id retry.max retry.wait"
	if strings.Join(names, " ") != wantNames {
		t.Fatalf("field order:\n got %s\nwant %s", strings.Join(names, " "), wantNames)
	}
	checks := map[string]adapter.ConfigField{
		"base_url":   {Name: "base_url", Type: adapter.FieldURL, Default: "https://api.example.com", Description: "API host"},
		"token":      {Name: "token", Type: adapter.FieldString, Required: true, Secret: true, Description: "bearer token"},
		"mode":       {Name: "mode", Type: adapter.FieldString, Default: "auto", Enum: []string{"auto", "basic"}, Description: "auth mode"},
		"page_size":  {Name: "page_size", Type: adapter.FieldInt, Default: "100", Description: "page size (1–100)"},
		"share":      {Name: "share", Type: adapter.FieldNumber, Default: "0.8", Description: "share of the quota (> 0, ≤ 1)"},
		"every":      {Name: "every", Type: adapter.FieldDuration, Default: "1m", Description: "interval (> 0)"},
		"lag":        {Name: "lag", Type: adapter.FieldDuration, Default: "5s", Description: "lag (≥ 0)"},
		"on":         {Name: "on", Type: adapter.FieldBool, Default: "true", Description: "switch"},
		"opt":        {Name: "opt", Type: adapter.FieldBool, Description: "optional switch"},
		"tags":       {Name: "tags", Type: adapter.FieldList, Default: "a,b", Enum: []string{"a", "b", "c"}, Description: "tags"},
		"status_map": {Name: "status_map", Type: adapter.FieldMap, Enum: []string{"open", "closed"}, Description: "statuses"},
	}
	for name, want := range checks {
		if got := byName[name]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

type badTag struct {
	A int `spec:"a" min:"x"`
}
type badDefault struct {
	A int `spec:"a" default:"101" max:"100"`
}
type badEnumDefault struct {
	A string `spec:"a" default:"c" enum:"a,b"`
}
type untagged struct {
	A int
}
type unsupported struct {
	A []int `spec:"a"`
}
type unknownOption struct {
	A string `spec:"a,secrte"`
}
type twice struct {
	A string `spec:"a"`
	B string `spec:"a"`
}
type boundOnString struct {
	A string `spec:"a" min:"1"`
}

func TestMalformedTagsPanic(t *testing.T) {
	for name, v := range map[string]any{
		"bad min": badTag{}, "default out of range": badDefault{}, "default not in enum": badEnumDefault{},
		"untagged exported field": untagged{}, "unsupported type": unsupported{}, "unknown option": unknownOption{},
		"key twice": twice{}, "bound on a string": boundOnString{}, "not a struct": 5,
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("no panic")
				}
				if !strings.HasPrefix(errString(r), "spec: ") {
					t.Fatalf("panic without the package's prefix: %v", r)
				}
			}()
			spec.Fields(v)
		})
	}
	defer func() {
		if recover() == nil {
			t.Fatal("Decode into a non-pointer did not panic")
		}
	}()
	spec.Decode(nil, "p", sample{})
}

func errString(r any) string {
	if e, ok := r.(error); ok {
		return e.Error()
	}
	s, _ := r.(string)
	return s
}

func TestCheckAgainstAPublishedSchema(t *testing.T) {
	schema := spec.Fields(sample{})
	cases := []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"token": "t", "page_size": 50, "share": 0.5, "auth": map[string]any{"client_id": "x"}}, ""},
		{map[string]any{"tokn": "t"}, "p.tokn: unknown key (did you mean token?)\np.token: is required (bearer token)"},
		{map[string]any{"token": "t", "page_size": "many", "mode": "z", "retry": map[string]any{"wait": "later"}},
			"p.mode: must be one of auto, basic (got \"z\")\np.page_size: must be a whole number (got a string \"many\")\np.retry.wait: must be a duration with a unit, such as 30s, 5m or 1h30m (got a string \"later\")"},
		// A schema carries no bounds: a plugin's own ValidateConfig checks them.
		{map[string]any{"token": "t", "page_size": 1000}, ""},
		{map[string]any{"token_file": "/x"}, "p.token: is required (bearer token)"},
	}
	for i, tc := range cases {
		var lines []string
		for _, d := range spec.Check(tc.raw, "p", schema) {
			lines = append(lines, d.String())
		}
		if got := strings.Join(lines, "\n"); got != tc.want {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, tc.want)
		}
	}
	future := []adapter.ConfigField{{Name: "colour", Type: "rgb"}, {Name: "tags", Type: adapter.FieldList, Required: true}}
	if ds := spec.Check(map[string]any{"colour": []any{1, 2, 3}, "tags": []any{"a", map[string]any{}}}, "p", future); len(ds) != 1 || ds[0].Path != "p.tags[1]" {
		t.Errorf("a type the host does not know is left to the adapter, and an element error is not also 'required': %v", ds)
	}
	bad := spec.Check(nil, "p", []adapter.ConfigField{{Name: "a", Type: adapter.FieldString}, {Name: "a.b", Type: adapter.FieldString}})
	if len(bad) != 1 || bad[0].Summary != "the adapter's schema is malformed" {
		t.Errorf("malformed schema: %v", bad)
	}
}
