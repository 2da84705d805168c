package spec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/hubspot/hubspotfake/spec"
	"github.com/segconn/connector/internal/testenv"
)

func TestFakeRejectsWhatTheSpecRejects(t *testing.T) {
	v, err := spec.Load(filepath.Dir(testenv.SharedFile(t, "specs/hubspot/contacts.json")))
	if err != nil {
		t.Fatal(err)
	}
	f := hubspotfake.New(hubspotfake.Options{Tokens: []string{"t"}, ValidateRequest: func(r *http.Request) error {
		if _, err := v.Request(r.Context(), r); err != nil && !errors.Is(err, spec.ErrNotDescribed) {
			return err
		}
		return nil
	}})
	base := f.Start()
	defer f.Close()
	post := func(path, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if status, body := post("/crm/v3/objects/contacts/search", `{"filterGroups":[],"limit":10}`); status != 400 || body["category"] != "VALIDATION_ERROR" {
		t.Fatalf("search without after/properties/sorts: %d %v", status, body)
	}
	if status, body := post("/crm/v3/objects/contacts/batch/update", `{"inputs":[{"properties":{"firstname":"x"}}]}`); status != 400 {
		t.Fatalf("batch update input without id: %d %v", status, body)
	}
	if status, body := post("/crm/v3/objects/contacts/search", `{"after":"0","filterGroups":[],"limit":10,"properties":[],"sorts":[]}`); status != 200 {
		t.Fatalf("valid search: %d %v", status, body)
	}
	// Companies and v4 associations are described by their own spec files
	// and checked like the rest.
	if status, body := post("/crm/v3/objects/companies/batch/read", `{"inputs":[]}`); status != 400 {
		t.Fatalf("companies batch read without properties: %d %v", status, body)
	}
	if status, body := post("/crm/v3/objects/companies/batch/read", `{"inputs":[],"properties":[],"propertiesWithHistory":[]}`); status != 200 {
		t.Fatalf("companies batch read: %d %v", status, body)
	}
	if status, body := post("/crm/v4/associations/contacts/companies/batch/read", `{"inputs":[{"after":"x"}]}`); status != 400 {
		t.Fatalf("associations batch read input without id: %d %v", status, body)
	}
}

// TestLoadReadsEveryFile checks that every spec file in the folder is
// loaded, so a file added there is validated without a code change.
func TestLoadReadsEveryFile(t *testing.T) {
	dir := filepath.Dir(testenv.SharedFile(t, "specs/hubspot/contacts.json"))
	v, err := spec.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i] = filepath.Base(want[i])
	}
	if got := v.Files(); !slices.Equal(got, want) {
		t.Fatalf("loaded %v, want every file %v", got, want)
	}
	for _, f := range []string{"companies.json", "associations.json"} {
		if !slices.Contains(v.Files(), f) {
			t.Errorf("%s not loaded", f)
		}
	}
	if _, err := spec.Load(t.TempDir()); err == nil {
		t.Error("an empty folder loaded without error")
	}
}
