package identity

import (
	"fmt"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// NormalizeChange fills the refs a connector may leave implicit and
// returns a reason when the change cannot be stored.
func NormalizeChange(c *adapter.Change, platform, account, object string) (string, string) {
	fill := func(r *domain.ExternalRef, obj string) {
		if r.Platform == "" {
			r.Platform = platform
		}
		if r.Account == "" {
			r.Account = account
		}
		if r.ObjectType == "" {
			r.ObjectType = obj
		}
	}
	switch c.Kind {
	case adapter.ChangeUpsert:
		n := 0
		if c.Contact != nil {
			n++
			if c.Contact.Ref.IsZero() {
				c.Contact.Ref = c.Ref
			}
			fill(&c.Contact.Ref, object)
			c.Ref = c.Contact.Ref
		}
		if c.Company != nil {
			n++
			if c.Company.Ref.IsZero() {
				c.Company.Ref = c.Ref
			}
			fill(&c.Company.Ref, domain.ObjectCompany)
			c.Ref = c.Company.Ref
		}
		if c.Order != nil {
			n++
			if c.Order.Ref.IsZero() {
				c.Order.Ref = c.Ref
			}
			fill(&c.Order.Ref, object)
			c.Ref = c.Order.Ref
		}
		if n != 1 {
			return "upsert", fmt.Sprintf("upsert of %q carries %d records; exactly one of contact, company, order is required", c.Ref.Key(), n)
		}
	case adapter.ChangeDelete:
		fill(&c.Ref, object)
	case adapter.ChangeMerge:
		fill(&c.Ref, object)
		fill(&c.MergedInto, c.Ref.ObjectType)
		if c.MergedInto.IsZero() {
			return "merge", fmt.Sprintf("merge of %q has no merged_into id", c.Ref.Key())
		}
	default:
		return "change", fmt.Sprintf("unknown change kind %q for %q", c.Kind, c.Ref.Key())
	}
	if c.Ref.IsZero() {
		return string(c.Kind), fmt.Sprintf("%s change without a record id", c.Kind)
	}
	if c.Order != nil {
		o := c.Order
		if o.CreatedAt.IsZero() {
			return "order", fmt.Sprintf("order %q: created_at is missing", o.Ref.Key())
		}
		if o.Currency == "" {
			o.Currency = o.Total.Currency
		}
		if o.Currency == "" {
			return "order", fmt.Sprintf("order %q: currency is missing", o.Ref.Key())
		}
		if !o.CustomerRef.IsZero() {
			fill(&o.CustomerRef, domain.ObjectContact)
		}
	}
	if c.Contact != nil && !c.Contact.CompanyRef.IsZero() {
		fill(&c.Contact.CompanyRef, domain.ObjectCompany)
	}
	return "", ""
}
