package salesforcefake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Field types of the fake's schema, named as describe names them.
const (
	TypeID        = "id"
	TypeString    = "string"
	TypeEmail     = "email"
	TypePhone     = "phone"
	TypePicklist  = "picklist"
	TypeTextArea  = "textarea"
	TypeBoolean   = "boolean"
	TypeDouble    = "double"
	TypeInt       = "int"
	TypeCurrency  = "currency"
	TypeDate      = "date"
	TypeDateTime  = "datetime"
	TypeReference = "reference"
)

// objectPrefixes are the key prefixes Salesforce gives each sObject's ids.
var objectPrefixes = map[string]string{
	"Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006",
	"Order": "801", "Campaign": "701", "CampaignMember": "00v", "User": "005",
	"OpportunityContactRole": "00K", "Topic": "0TO", "TopicAssignment": "0FT",
	"Product2": "01t", "OpportunityLineItem": "00k", "OrderItem": "802",
}

// baseSchema returns the standard fields of the objects the fake serves.
func baseSchema() map[string]map[string]string {
	common := func(m map[string]string) map[string]string {
		m["Id"] = TypeID
		m["IsDeleted"] = TypeBoolean
		m["SystemModstamp"] = TypeDateTime
		m["LastModifiedDate"] = TypeDateTime
		m["CreatedDate"] = TypeDateTime
		m["CreatedById"] = TypeReference
		return m
	}
	return map[string]map[string]string{
		"Contact": common(map[string]string{
			"FirstName": TypeString, "LastName": TypeString, "Email": TypeEmail, "Phone": TypePhone,
			"MobilePhone": TypePhone, "AccountId": TypeReference, "MailingStreet": TypeTextArea,
			"MailingCity": TypeString, "MailingState": TypeString, "MailingPostalCode": TypeString,
			"MailingCountry": TypeString, "Birthdate": TypeDate, "HasOptedOutOfEmail": TypeBoolean,
			"LeadSource": TypePicklist, "MasterRecordId": TypeReference, "Title": TypeString,
		}),
		"Lead": common(map[string]string{
			"FirstName": TypeString, "LastName": TypeString, "Email": TypeEmail, "Phone": TypePhone,
			"Company": TypeString, "Street": TypeTextArea, "City": TypeString, "State": TypeString,
			"PostalCode": TypeString, "Country": TypeString, "Status": TypePicklist,
			"Industry": TypePicklist, "HasOptedOutOfEmail": TypeBoolean, "IsConverted": TypeBoolean,
			"ConvertedContactId": TypeReference, "ConvertedAccountId": TypeReference,
			"MasterRecordId": TypeReference, "LeadSource": TypePicklist,
		}),
		"Account": common(map[string]string{
			"Name": TypeString, "Industry": TypePicklist, "NumberOfEmployees": TypeInt,
			"AnnualRevenue": TypeCurrency, "BillingCountry": TypeString, "BillingCity": TypeString,
			"Website": TypeString, "Type": TypePicklist, "MasterRecordId": TypeReference,
		}),
		"Opportunity": common(map[string]string{
			"Name": TypeString, "AccountId": TypeReference, "ContactId": TypeReference,
			"Amount": TypeCurrency, "CloseDate": TypeDate, "StageName": TypePicklist,
			"IsWon": TypeBoolean, "IsClosed": TypeBoolean, "LeadSource": TypePicklist, "Type": TypePicklist,
		}),
		"Order": common(map[string]string{
			"AccountId": TypeReference, "EffectiveDate": TypeDate, "Status": TypePicklist,
			"TotalAmount": TypeCurrency, "OrderNumber": TypeString, "BillToContactId": TypeReference,
			"ShipToContactId": TypeReference, "ActivatedDate": TypeDateTime,
		}),
		// Products and the line items of opportunities and orders, with the
		// standard fields of the Object Reference (Family is the product's
		// category picklist; Quantity is a double).
		"Product2": common(map[string]string{
			"Name": TypeString, "ProductCode": TypeString, "Family": TypePicklist, "IsActive": TypeBoolean,
		}),
		"OpportunityLineItem": common(map[string]string{
			"OpportunityId": TypeReference, "Product2Id": TypeReference, "PricebookEntryId": TypeReference,
			"Quantity": TypeDouble, "UnitPrice": TypeCurrency, "TotalPrice": TypeCurrency, "Name": TypeString, "ProductCode": TypeString,
		}),
		"OrderItem": common(map[string]string{
			"OrderId": TypeReference, "Product2Id": TypeReference, "PricebookEntryId": TypeReference,
			"Quantity": TypeDouble, "UnitPrice": TypeCurrency, "TotalPrice": TypeCurrency, "OrderItemNumber": TypeString,
		}),
		"OpportunityContactRole": common(map[string]string{
			"OpportunityId": TypeReference, "ContactId": TypeReference, "IsPrimary": TypeBoolean, "Role": TypePicklist,
		}),
		// TopicAssignment rows can be created and deleted, never updated.
		"Topic":           common(map[string]string{"Name": TypeString}),
		"TopicAssignment": common(map[string]string{"TopicId": TypeReference, "EntityId": TypeReference}),
		"Campaign": common(map[string]string{
			"Name": TypeString, "IsActive": TypeBoolean, "Type": TypePicklist, "Status": TypePicklist,
			"Description": TypeTextArea,
		}),
		"CampaignMember": common(map[string]string{
			"CampaignId": TypeReference, "ContactId": TypeReference, "LeadId": TypeReference,
			"Status": TypePicklist,
		}),
	}
}

// record is one stored sObject row.
type record struct {
	typ     string
	id      string
	fields  map[string]any // string, float64, bool, time.Time or nil
	deleted bool
	// hardDeleted rows are gone from queryAll too (emptied recycle bin)
	// but still listed by getDeleted.
	hardDeleted bool
	deletedAt   time.Time
}

func (r *record) value(field string) any {
	switch field {
	case "Id":
		return r.id
	case "IsDeleted":
		return r.deleted
	}
	return r.fields[field]
}

func (r *record) modstamp() time.Time {
	t, _ := r.fields["SystemModstamp"].(time.Time)
	return t
}

// formatDateTime renders a date-time the way the REST API does.
func formatDateTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000+0000")
}

// jsonValue renders a stored value for a REST response.
func jsonValue(typ string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case time.Time:
		if typ == TypeDate {
			return x.UTC().Format("2006-01-02")
		}
		return formatDateTime(x)
	case string:
		if typ == TypeCurrency || typ == TypeDouble || typ == TypeInt {
			return json.Number(x)
		}
		return x
	case float64:
		return x
	default:
		return x
	}
}

// csvValue renders a stored value for a Bulk API 2.0 CSV cell.
func csvValue(typ string, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if typ == TypeDate {
			return x.UTC().Format("2006-01-02")
		}
		return x.UTC().Format("2006-01-02T15:04:05.000Z")
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// coerce converts an incoming JSON value (from seeding or a write) to the
// stored representation for the field's type.
func coerce(typ string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			return strconv.ParseBool(x)
		}
	case TypeDateTime, TypeDate:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			if x == "" {
				return nil, nil
			}
			for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02"} {
				if t, err := time.Parse(l, x); err == nil {
					return t.UTC(), nil
				}
			}
		}
	case TypeCurrency, TypeDouble, TypeInt:
		switch x := v.(type) {
		case json.Number:
			return string(x), nil
		case string:
			if x == "" {
				return nil, nil
			}
			if _, err := strconv.ParseFloat(x, 64); err == nil {
				return x, nil
			}
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case int:
			return strconv.Itoa(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
	default:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return string(x), nil
		case float64:
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		case int:
			return strconv.Itoa(x), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
	}
	return nil, fmt.Errorf("value %v is not valid for a %s field", v, typ)
}

// idFor makes an 18-character id with the object's key prefix. Ids sort in
// creation order.
func idFor(typ string, n int64) string {
	p := objectPrefixes[typ]
	if p == "" {
		p = "a00"
	}
	return p + fmt.Sprintf("%012d", n) + "AAA"
}

// typeOfID finds the object an id belongs to by its key prefix.
func typeOfID(id string) string {
	if len(id) < 3 {
		return ""
	}
	for t, p := range objectPrefixes {
		if strings.HasPrefix(id, p) {
			return t
		}
	}
	return ""
}
