package salesforce

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// SOQL is built only from constants and the helpers below: every value
// from outside (names, ids, timestamps) goes through quoteString,
// checked ids, or dateTimeLiteral, so no input can change a query's shape.

var idRE = regexp.MustCompile(`^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$`)

// validID reports whether s is a 15- or 18-character Salesforce id.
func validID(s string) bool { return idRE.MatchString(s) }

// quoteString returns s as a SOQL string literal with every special
// character escaped the way SOQL requires.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// idList renders ids as a parenthesised list of quoted literals; every id
// must already have passed validID.
func idList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = quoteString(id)
	}
	return "(" + strings.Join(q, ",") + ")"
}

// dateTimeLiteral renders t as an unquoted SOQL date-time, truncated to
// the second (SOQL's literal precision; the Id tie-break handles ties).
func dateTimeLiteral(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

func queryEscape(soql string) string { return url.QueryEscape(soql) }

// fieldsOf lists the fields the connector reads from each object.
func (c *Connector) fieldsOf(object string) []string {
	common := []string{"Id", "IsDeleted", "SystemModstamp", "LastModifiedDate", "CreatedDate"}
	var f []string
	switch object {
	case "Contact":
		f = []string{"FirstName", "LastName", "Email", "Phone", "MobilePhone", "AccountId", "MailingStreet",
			"MailingCity", "MailingState", "MailingPostalCode", "MailingCountry", "Birthdate",
			"HasOptedOutOfEmail", "LeadSource", "Title", "MasterRecordId"}
	case "Lead":
		f = []string{"FirstName", "LastName", "Email", "Phone", "Company", "Street", "City", "State",
			"PostalCode", "Country", "Status", "Industry", "HasOptedOutOfEmail", "IsConverted",
			"ConvertedContactId", "LeadSource", "MasterRecordId"}
	case "Account":
		f = []string{"Name", "Industry", "NumberOfEmployees", "AnnualRevenue", "BillingCountry", "Website", "MasterRecordId"}
	case "Opportunity":
		f = []string{"Name", "AccountId", "ContactId", "Amount", "CloseDate", "StageName", "IsWon", "IsClosed", "LeadSource"}
	case "Order":
		f = []string{"AccountId", "EffectiveDate", "Status", "TotalAmount", "OrderNumber", "BillToContactId"}
	}
	out := append(common, f...)
	out = append(out, c.engagementFieldsOf(object)...)
	if c.cfg.MultiCurrency && (object == "Opportunity" || object == "Order" || object == "Account") {
		out = append(out, "CurrencyIsoCode")
	}
	return out
}

// selectSince builds the incremental query of one object: rows whose
// SystemModstamp is at or after since's second (ties resolved by the
// caller on SystemModstamp then Id). order adds ORDER BY, which Bulk API
// 2.0 jobs refuse.
func (c *Connector) selectSince(object string, since time.Time, order bool) string {
	q := fmt.Sprintf("SELECT %s FROM %s", strings.Join(c.fieldsOf(object), ", "), object)
	if !since.IsZero() {
		q += " WHERE SystemModstamp >= " + dateTimeLiteral(since)
	}
	if order {
		q += " ORDER BY SystemModstamp ASC, Id ASC"
	}
	return q
}
