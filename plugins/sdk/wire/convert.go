package wire

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	pb "github.com/segconn/connector/plugins/sdk/proto/connector/v1"
)

// This file converts between the plain adapter/domain types and their wire
// messages. Zero values map to absent messages and back, so a round trip
// is the identity up to nil-versus-empty slices and maps and time zones
// (times come back in UTC).

func tsTo(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func tsFrom(p *timestamppb.Timestamp) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.AsTime()
}

func durTo(d time.Duration) *durationpb.Duration {
	if d == 0 {
		return nil
	}
	return durationpb.New(d)
}

func durFrom(p *durationpb.Duration) time.Duration {
	if p == nil {
		return 0
	}
	return p.AsDuration()
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func mapOrNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
}

func refTo(r domain.ExternalRef) *pb.ExternalRef {
	if r == (domain.ExternalRef{}) {
		return nil
	}
	return &pb.ExternalRef{Platform: r.Platform, Account: r.Account, ObjectType: r.ObjectType, Id: r.ID, LastModified: tsTo(r.LastModified)}
}

func refFrom(p *pb.ExternalRef) domain.ExternalRef {
	if p == nil {
		return domain.ExternalRef{}
	}
	return domain.ExternalRef{Platform: p.Platform, Account: p.Account, ObjectType: p.ObjectType, ID: p.Id, LastModified: tsFrom(p.LastModified)}
}

func moneyTo(m domain.Money) *pb.Money {
	if m == (domain.Money{}) {
		return nil
	}
	return &pb.Money{Amount: m.Amount, Currency: m.Currency}
}

func moneyFrom(p *pb.Money) domain.Money {
	if p == nil {
		return domain.Money{}
	}
	return domain.Money{Amount: p.Amount, Currency: p.Currency}
}

func companyTo(c *domain.Company) *pb.Company {
	if c == nil {
		return nil
	}
	return &pb.Company{Ref: refTo(c.Ref), Name: c.Name, Domain: c.Domain, Industry: c.Industry, Employees: c.Employees,
		AnnualRevenue: moneyTo(c.AnnualRevenue), Country: c.Country, UpdatedAt: tsTo(c.UpdatedAt)}
}

func companyFrom(p *pb.Company) *domain.Company {
	if p == nil {
		return nil
	}
	return &domain.Company{Ref: refFrom(p.Ref), Name: p.Name, Domain: p.Domain, Industry: p.Industry, Employees: p.Employees,
		AnnualRevenue: moneyFrom(p.AnnualRevenue), Country: p.Country, UpdatedAt: tsFrom(p.UpdatedAt)}
}

func contactTo(c *domain.Contact) *pb.Contact {
	if c == nil {
		return nil
	}
	out := &pb.Contact{
		Ref: refTo(c.Ref), Emails: c.Emails, Phones: c.Phones, FirstName: c.FirstName, LastName: c.LastName,
		Gender: c.Gender, BirthDate: c.BirthDate, CompanyRef: refTo(c.CompanyRef), Company: companyTo(c.Company),
		Attributes: c.Attributes, LifecycleStage: c.LifecycleStage, MergedIds: c.MergedIDs,
		CreatedAt: tsTo(c.CreatedAt), UpdatedAt: tsTo(c.UpdatedAt),
	}
	if c.Address != (domain.Address{}) {
		a := c.Address
		out.Address = &pb.Address{Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country}
	}
	if c.Consent != (domain.Consent{}) {
		k := c.Consent
		out.Consent = &pb.Consent{Email: string(k.Email), Sms: string(k.SMS), Tracking: string(k.Tracking), UpdatedAt: tsTo(k.UpdatedAt)}
	}
	return out
}

func contactFrom(p *pb.Contact) *domain.Contact {
	if p == nil {
		return nil
	}
	out := &domain.Contact{
		Ref: refFrom(p.Ref), Emails: nilIfEmpty(p.Emails), Phones: nilIfEmpty(p.Phones), FirstName: p.FirstName,
		LastName: p.LastName, Gender: p.Gender, BirthDate: p.BirthDate, CompanyRef: refFrom(p.CompanyRef),
		Company: companyFrom(p.Company), Attributes: mapOrNil(p.Attributes), LifecycleStage: p.LifecycleStage,
		MergedIDs: nilIfEmpty(p.MergedIds), CreatedAt: tsFrom(p.CreatedAt), UpdatedAt: tsFrom(p.UpdatedAt),
	}
	if a := p.Address; a != nil {
		out.Address = domain.Address{Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region, PostalCode: a.PostalCode, Country: a.Country}
	}
	if k := p.Consent; k != nil {
		out.Consent = domain.Consent{Email: domain.ConsentState(k.Email), SMS: domain.ConsentState(k.Sms),
			Tracking: domain.ConsentState(k.Tracking), UpdatedAt: tsFrom(k.UpdatedAt)}
	}
	return out
}

func orderTo(o *domain.Order) *pb.Order {
	if o == nil {
		return nil
	}
	out := &pb.Order{
		Ref: refTo(o.Ref), CustomerRef: refTo(o.CustomerRef), BillingEmail: o.BillingEmail,
		CreatedAt: tsTo(o.CreatedAt), UpdatedAt: tsTo(o.UpdatedAt), Status: string(o.Status), RawStatus: o.RawStatus,
		Currency: o.Currency, Total: moneyTo(o.Total), Refunded: moneyTo(o.Refunded), Channel: o.Channel, Device: o.Device,
	}
	if len(o.Items) > 0 {
		out.Items = make([]*pb.LineItem, len(o.Items))
		for i, li := range o.Items {
			out.Items[i] = &pb.LineItem{Sku: li.SKU, Name: li.Name, Category: li.Category, Quantity: li.Quantity, UnitPrice: moneyTo(li.UnitPrice)}
		}
	}
	return out
}

func orderFrom(p *pb.Order) *domain.Order {
	if p == nil {
		return nil
	}
	out := &domain.Order{
		Ref: refFrom(p.Ref), CustomerRef: refFrom(p.CustomerRef), BillingEmail: p.BillingEmail,
		CreatedAt: tsFrom(p.CreatedAt), UpdatedAt: tsFrom(p.UpdatedAt), Status: domain.OrderStatus(p.Status),
		RawStatus: p.RawStatus, Currency: p.Currency, Total: moneyFrom(p.Total), Refunded: moneyFrom(p.Refunded),
		Channel: p.Channel, Device: p.Device,
	}
	if len(p.Items) > 0 {
		out.Items = make([]domain.LineItem, len(p.Items))
		for i, li := range p.Items {
			out.Items[i] = domain.LineItem{SKU: li.Sku, Name: li.Name, Category: li.Category, Quantity: li.Quantity, UnitPrice: moneyFrom(li.UnitPrice)}
		}
	}
	return out
}

func changeTo(c *adapter.Change) *pb.Change {
	if c == nil {
		return nil
	}
	return &pb.Change{Kind: string(c.Kind), Ref: refTo(c.Ref), MergedInto: refTo(c.MergedInto),
		Contact: contactTo(c.Contact), Company: companyTo(c.Company), Order: orderTo(c.Order), Privacy: c.Privacy}
}

func changeFrom(p *pb.Change) adapter.Change {
	return adapter.Change{Kind: adapter.ChangeKind(p.Kind), Ref: refFrom(p.Ref), MergedInto: refFrom(p.MergedInto),
		Contact: contactFrom(p.Contact), Company: companyFrom(p.Company), Order: orderFrom(p.Order), Privacy: p.Privacy}
}

func changesTo(cs []adapter.Change) []*pb.Change {
	if len(cs) == 0 {
		return nil
	}
	out := make([]*pb.Change, len(cs))
	for i := range cs {
		out[i] = changeTo(&cs[i])
	}
	return out
}

func changesFrom(ps []*pb.Change) []adapter.Change {
	if len(ps) == 0 {
		return nil
	}
	out := make([]adapter.Change, len(ps))
	for i, p := range ps {
		out[i] = changeFrom(p)
	}
	return out
}

func rejectedTo(rs []adapter.Rejected) []*pb.Rejected {
	if len(rs) == 0 {
		return nil
	}
	out := make([]*pb.Rejected, len(rs))
	for i, r := range rs {
		out[i] = &pb.Rejected{Ref: refTo(r.Ref), Reason: r.Reason, Raw: r.Raw}
	}
	return out
}

func rejectedFrom(ps []*pb.Rejected) []adapter.Rejected {
	if len(ps) == 0 {
		return nil
	}
	out := make([]adapter.Rejected, len(ps))
	for i, p := range ps {
		out[i] = adapter.Rejected{Ref: refFrom(p.Ref), Reason: p.Reason, Raw: nilIfEmpty(p.Raw)}
	}
	return out
}

func descriptorTo(d adapter.Descriptor) *pb.DescribeResponse {
	c := d.Capabilities
	out := &pb.DescribeResponse{Name: d.Name, Version: d.Version, Capabilities: &pb.Capabilities{
		Objects: c.Objects, Incremental: c.Incremental, Webhooks: c.Webhooks, MaxPushBatch: int64(c.MaxPushBatch),
	}}
	for _, t := range c.Targets {
		out.Capabilities.Targets = append(out.Capabilities.Targets, string(t))
	}
	for _, f := range d.ConfigSchema {
		out.ConfigSchema = append(out.ConfigSchema, &pb.ConfigField{Name: f.Name, Type: string(f.Type), Description: f.Description,
			Default: f.Default, Enum: f.Enum, Required: f.Required, Secret: f.Secret})
	}
	return out
}

func descriptorFrom(p *pb.DescribeResponse) adapter.Descriptor {
	d := adapter.Descriptor{Name: p.Name, Version: p.Version}
	if c := p.Capabilities; c != nil {
		d.Capabilities = adapter.Capabilities{Objects: nilIfEmpty(c.Objects), Incremental: nilIfEmpty(c.Incremental),
			Webhooks: c.Webhooks, MaxPushBatch: int(c.MaxPushBatch)}
		for _, t := range c.Targets {
			d.Capabilities.Targets = append(d.Capabilities.Targets, adapter.TargetKind(t))
		}
	}
	for _, f := range p.ConfigSchema {
		d.ConfigSchema = append(d.ConfigSchema, adapter.ConfigField{Name: f.Name, Type: adapter.FieldType(f.Type),
			Description: f.Description, Default: f.Default, Enum: nilIfEmpty(f.Enum), Required: f.Required, Secret: f.Secret})
	}
	return d
}

func diagnosticsTo(ds []adapter.Diagnostic) []*pb.Diagnostic {
	out := make([]*pb.Diagnostic, len(ds))
	for i, d := range ds {
		out[i] = &pb.Diagnostic{Severity: string(d.Severity), Path: d.Path, Summary: d.Summary, Detail: d.Detail}
	}
	return out
}

func diagnosticsFrom(ps []*pb.Diagnostic) []adapter.Diagnostic {
	if len(ps) == 0 {
		return nil
	}
	out := make([]adapter.Diagnostic, len(ps))
	for i, p := range ps {
		out[i] = adapter.Diagnostic{Severity: adapter.Severity(p.Severity), Path: p.Path, Summary: p.Summary, Detail: p.Detail}
	}
	return out
}

func targetsTo(ts []adapter.Target) []*pb.Target {
	out := make([]*pb.Target, len(ts))
	for i, t := range ts {
		out[i] = &pb.Target{Key: t.Key, Kind: string(t.Kind), Name: t.Name, Options: t.Options, Multi: t.Multi}
	}
	return out
}

func targetsFrom(ps []*pb.Target) []adapter.Target {
	out := make([]adapter.Target, len(ps))
	for i, p := range ps {
		out[i] = adapter.Target{Key: p.Key, Kind: adapter.TargetKind(p.Kind), Name: p.Name, Options: nilIfEmpty(p.Options), Multi: p.Multi}
	}
	return out
}

func ensuredTo(es []adapter.EnsuredTarget) []*pb.EnsuredTarget {
	out := make([]*pb.EnsuredTarget, len(es))
	for i, e := range es {
		out[i] = &pb.EnsuredTarget{Key: e.Key, PlatformId: e.PlatformID, Created: e.Created}
	}
	return out
}

func ensuredFrom(ps []*pb.EnsuredTarget) []adapter.EnsuredTarget {
	out := make([]adapter.EnsuredTarget, len(ps))
	for i, p := range ps {
		out[i] = adapter.EnsuredTarget{Key: p.Key, PlatformID: p.PlatformId, Created: p.Created}
	}
	return out
}

func pushRequestTo(r adapter.PushRequest) *pb.PushRequest {
	out := &pb.PushRequest{Targets: r.Targets, Items: make([]*pb.PushItem, len(r.Items))}
	for i, it := range r.Items {
		out.Items[i] = &pb.PushItem{Id: it.ID, Ref: refTo(it.Ref), Properties: it.Properties, Add: it.Add, Remove: it.Remove}
	}
	return out
}

func pushRequestFrom(p *pb.PushRequest) adapter.PushRequest {
	out := adapter.PushRequest{Targets: mapOrNil(p.Targets), Items: make([]adapter.PushItem, len(p.Items))}
	for i, it := range p.Items {
		out.Items[i] = adapter.PushItem{ID: it.Id, Ref: refFrom(it.Ref), Properties: mapOrNil(it.Properties),
			Add: nilIfEmpty(it.Add), Remove: nilIfEmpty(it.Remove)}
	}
	return out
}

func pushResultsTo(rs []adapter.PushResult) []*pb.PushResult {
	out := make([]*pb.PushResult, len(rs))
	for i, r := range rs {
		out[i] = &pb.PushResult{Id: r.ID, Status: string(r.Status), Reason: r.Reason, RetryAfter: durTo(r.RetryAfter)}
	}
	return out
}

func pushResultsFrom(ps []*pb.PushResult) []adapter.PushResult {
	out := make([]adapter.PushResult, len(ps))
	for i, p := range ps {
		out[i] = adapter.PushResult{ID: p.Id, Status: adapter.PushStatus(p.Status), Reason: p.Reason, RetryAfter: durFrom(p.RetryAfter)}
	}
	return out
}

func webhookRequestTo(r adapter.WebhookRequest) *pb.WebhookRequest {
	out := &pb.WebhookRequest{Method: r.Method, Url: r.URL, Body: r.Body, ReceivedAt: tsTo(r.ReceivedAt)}
	if len(r.Headers) > 0 {
		out.Headers = make(map[string]*pb.HeaderValues, len(r.Headers))
		for k, v := range r.Headers {
			out.Headers[k] = &pb.HeaderValues{Values: v}
		}
	}
	return out
}

func webhookRequestFrom(p *pb.WebhookRequest) adapter.WebhookRequest {
	out := adapter.WebhookRequest{Method: p.Method, URL: p.Url, Body: p.Body, ReceivedAt: tsFrom(p.ReceivedAt)}
	if len(p.Headers) > 0 {
		out.Headers = make(map[string][]string, len(p.Headers))
		for k, v := range p.Headers {
			out.Headers[k] = v.GetValues()
		}
	}
	return out
}

func webhookResultTo(r adapter.WebhookResult) *pb.WebhookResponse {
	out := &pb.WebhookResponse{Status: int32(r.Status), ContentType: r.ContentType, Body: r.Body}
	for _, e := range r.Events {
		out.Events = append(out.Events, &pb.WebhookEvent{Id: e.ID, Kind: string(e.Kind), Ref: refTo(e.Ref),
			MergedInto: refTo(e.MergedInto), Privacy: e.Privacy, OccurredAt: tsTo(e.OccurredAt), Record: changeTo(e.Record)})
	}
	return out
}

func webhookResultFrom(p *pb.WebhookResponse) adapter.WebhookResult {
	out := adapter.WebhookResult{Status: int(p.Status), ContentType: p.ContentType, Body: nilIfEmpty(p.Body)}
	for _, e := range p.Events {
		ev := adapter.WebhookEvent{ID: e.Id, Kind: adapter.ChangeKind(e.Kind), Ref: refFrom(e.Ref),
			MergedInto: refFrom(e.MergedInto), Privacy: e.Privacy, OccurredAt: tsFrom(e.OccurredAt)}
		if e.Record != nil {
			c := changeFrom(e.Record)
			ev.Record = &c
		}
		out.Events = append(out.Events, ev)
	}
	return out
}
