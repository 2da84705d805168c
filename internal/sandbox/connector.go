package sandbox

import (
	"path/filepath"
	"slices"
	"strings"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/pipeline"
)

// ConnectorConfig returns a connector configuration pointing every
// platform at the running sandbox, with an SQLite store in dir and the
// default segments.
func (sb *Sandbox) ConnectorConfig(dir string) *config.Loaded {
	cfg := config.Defaults()
	cfg.Store.Path = filepath.Join(dir, "connector.db")
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Platforms = sb.Configs()
	cfg.Currency = sb.Data.Currency
	l := &config.Loaded{Config: cfg}
	for _, e := range sb.Endpoints() {
		for _, v := range e.Credentials {
			l.SecretValues = append(l.SecretValues, v)
		}
	}
	return l
}

// salesforceExternalID is the default write_back.external_id_field of the
// Salesforce connector.
const salesforceExternalID = "Connector_Profile_Id__c"

// PrepareWriteback does what a Salesforce admin does once before
// write-back can start: create the custom fields the segment definitions
// write to, on Contact and Lead, and the external id field Contacts are
// created by when a definition creates them. It returns the fields' API names, sorted.
func (sb *Sandbox) PrepareWriteback(defs []segment.Definition) []string {
	seen := map[string]bool{}
	for _, d := range defs {
		t, ok := d.Writeback[Salesforce]
		if !ok {
			continue
		}
		if t.Create == "members" || t.Create == "all" {
			// Created Contacts are upserted by the connector's external id.
			sb.SalesforceFake.AddExternalIDField("Contact", salesforceExternalID)
			seen[salesforceExternalID] = true
		}
		var names []string
		if t.Property != "" {
			names = append(names, t.Property)
		}
		if t.Tag {
			names = append(names, pipeline.TagsProperty)
		}
		typed := map[string]string{}
		for _, n := range names {
			typed[n] = salesforcefake.TypeTextArea
		}
		if t.NextOrderProperty != "" {
			typed[t.NextOrderProperty] = salesforcefake.TypeDate
		}
		if t.OrderGapProperty != "" {
			typed[t.OrderGapProperty] = salesforcefake.TypeDouble
		}
		for n, typ := range typed {
			if !strings.HasSuffix(n, "__c") {
				n += "__c"
			}
			for _, obj := range []string{"Contact", "Lead"} {
				sb.SalesforceFake.AddField(obj, n, typ)
			}
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
