package salesforce

import (
	"strings"
	"testing"
	"time"

	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// TestEngagementFieldsAreRead: engagement.fields names the Contact and
// Lead fields an org keeps engagement in; a pull reads them into the
// engagement attributes (a number field's 12.0 as "12", a date-time as
// RFC 3339 UTC, a date as its midnight), and a configured field the org
// lacks on one object is skipped with a warning instead of failing the
// query with INVALID_FIELD.
func TestEngagementFieldsAreRead(t *testing.T) {
	f := startFake(t, salesforcefake.Options{})
	for _, obj := range []string{"Contact", "Lead"} {
		f.AddField(obj, "Email_Opens__c", salesforcefake.TypeDouble)
		f.AddField(obj, "Web_Visits__c", salesforcefake.TypeDouble)
	}
	f.AddField("Contact", "Last_Email_Open__c", salesforcefake.TypeDateTime)
	f.AddField("Contact", "Last_Visit_Date__c", salesforcefake.TypeDate)
	opened := time.Date(2026, 9, 14, 8, 30, 0, 0, time.UTC)
	id := f.Insert("Contact", map[string]any{"LastName": "Opener", "Email": "o@example.com", "Email_Opens__c": 12.0,
		"Web_Visits__c": 3.0, "Last_Email_Open__c": opened, "Last_Visit_Date__c": "2026-09-20"})
	quiet := f.Insert("Contact", map[string]any{"LastName": "Quiet", "Email": "q@example.com"})
	lead := f.Insert("Lead", map[string]any{"LastName": "Lead", "Company": "Acme", "Email": "l@example.com", "Email_Opens__c": 2.0})
	c, logs := newConn(t, f, map[string]any{"engagement": map[string]any{"fields": map[string]any{
		"email_opens": "Email_Opens__c", "visits": "Web_Visits__c", "last_email_open": "Last_Email_Open__c", "last_visit": "Last_Visit_Date__c"}}})

	byID := map[string]*domain.Contact{}
	for _, ch := range pullAll(t, c, domain.ObjectContact, "", 0).changes {
		if ch.Contact != nil {
			byID[ch.Ref.ID] = ch.Contact
		}
	}
	got := byID[id]
	if got == nil {
		t.Fatalf("contact %s not pulled", id)
	}
	want := map[string]string{domain.AttrEmailOpens: "12", domain.AttrVisits: "3",
		domain.AttrLastEmailOpen: "2026-09-14T08:30:00Z", domain.AttrLastVisit: "2026-09-20T00:00:00Z"}
	for k, v := range want {
		if got.Attributes[k] != v {
			t.Errorf("contact attribute %s = %q, want %q (all: %v)", k, got.Attributes[k], v, got.Attributes)
		}
	}
	if q := byID[quiet]; q == nil || q.Attributes[domain.AttrEmailOpens] != "" {
		t.Errorf("a contact with no engagement values has %v, want none (absent is unknown)", q)
	}
	if l := byID[lead]; l == nil || l.Attributes[domain.AttrEmailOpens] != "2" || l.Attributes[domain.AttrLastEmailOpen] != "" {
		t.Errorf("lead attributes %v, want email opens 2 and no last open (the field is not on Lead)", l)
	}
	if !strings.Contains(logs.String(), "Last_Email_Open__c") || !strings.Contains(logs.String(), "not found") {
		t.Errorf("no warning names the field missing on Lead:\n%s", logs.String())
	}
}

// TestEngagementFieldsAreValidated: unknown measures and malformed field
// names are configuration errors with their paths.
func TestEngagementFieldsAreValidated(t *testing.T) {
	f := startFake(t, salesforcefake.Options{})
	_, diags := ParseConfig(merge(baseConfig(f), map[string]any{"engagement": map[string]any{"fields": map[string]any{
		"email_opens_90d": "Opens__c", "email_clicks": "not a field"}}}))
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, d.String())
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"platforms.salesforce.engagement.fields.email_opens_90d: is not an engagement measure", "platforms.salesforce.engagement.fields.email_clicks: must be a field API name"} {
		if !strings.Contains(all, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, all)
		}
	}
}
