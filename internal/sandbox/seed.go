package sandbox

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/connectors/hubspot"
	"github.com/segconn/connector/connectors/hubspot/hubspotfake"
	"github.com/segconn/connector/connectors/salesforce/salesforcefake"
	"github.com/segconn/connector/connectors/woocommerce/woocommercefake"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// siteLocation is the sandbox shop's WordPress timezone.
var siteLocation = time.FixedZone("UTC+2", 2*3600)

const wooDate = "2006-01-02T15:04:05"

func countryName(code string) string {
	for _, c := range countries {
		if c.code == code {
			return c.name
		}
	}
	return code
}

func decimal(m domain.Money) string { return m.Decimal() }

func hsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Sandbox) startHubSpot(baseURL string) {
	token := "pat-na1-" + secretFor(s.seed, "hubspot-token", 32)
	clientID := secretFor(s.seed, "hubspot-client-id", 24)
	clientSecret := secretFor(s.seed, "hubspot-client-secret", 32)
	refresh := "na1-" + secretFor(s.seed, "hubspot-refresh", 32)
	tier := cmp.Or(s.hubspotTier, "professional")
	perTen, _ := hubspot.TierLimits(tier)
	f := hubspotfake.New(hubspotfake.Options{Tokens: []string{token}, ClientID: clientID, ClientSecret: clientSecret, RefreshToken: refresh,
		BurstMax: perTen, BurstInterval: 10 * time.Second, Now: s.now})
	s.HubSpotFake = f
	for _, name := range []string{"interest", "acquisition_source"} {
		f.DefineProperty("contacts", hubspotfake.Property{Name: name, Label: strings.ReplaceAll(name, "_", " "),
			Type: "string", FieldType: "text", GroupName: "contactinformation"})
	}
	d := &s.Data.HubSpot
	for _, c := range d.Companies {
		f.Create("companies", hubspotfake.Object{ID: c.Ref.ID, CreatedAt: c.UpdatedAt, UpdatedAt: c.UpdatedAt, Properties: map[string]string{
			"name": c.Name, "domain": c.Domain, "industry": strings.ToUpper(strings.ReplaceAll(c.Industry, " ", "_")),
			"numberofemployees": strconv.FormatInt(c.Employees, 10), "annualrevenue": decimal(c.AnnualRevenue),
			"country": countryName(c.Country),
		}})
	}
	for _, c := range d.Contacts {
		props := map[string]string{
			"email": c.Emails[0], "firstname": c.FirstName, "lastname": c.LastName, "phone": c.Phones[0],
			"address": c.Address.Line1, "city": c.Address.City, "state": c.Address.Region, "zip": c.Address.PostalCode,
			"country": countryName(c.Address.Country), "lifecyclestage": c.LifecycleStage,
			"hs_email_optout": strconv.FormatBool(c.Consent.Email == domain.ConsentDenied),
		}
		if c.Gender != "" {
			props["gender"] = c.Gender
		}
		if c.BirthDate != "" {
			props["date_of_birth"] = c.BirthDate
		}
		for k, v := range c.Attributes {
			props[k] = v
		}
		o := hubspotfake.Object{ID: c.Ref.ID, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, Properties: props}
		if !c.CompanyRef.IsZero() {
			props["associatedcompanyid"] = c.CompanyRef.ID
			o.Associations = map[string][]string{"companies": {c.CompanyRef.ID}}
		}
		f.Create("contacts", o)
	}
	for _, o := range d.Orders {
		props := map[string]string{
			"dealname": "Sandbox deal " + o.Ref.ID, "amount": decimal(o.Total), "dealstage": o.RawStatus,
			"pipeline": "default", "deal_currency_code": o.Currency,
			"hs_is_closed_won": strconv.FormatBool(o.Status == domain.StatusCompleted),
			"hs_is_closed":     strconv.FormatBool(o.Status != domain.StatusOpen),
		}
		if o.Status != domain.StatusOpen {
			props["closedate"] = hsTime(o.CreatedAt)
		}
		f.Create("deals", hubspotfake.Object{ID: o.Ref.ID, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Properties: props,
			Associations: map[string][]string{"contacts": {o.CustomerRef.ID}}})
	}
	f.TakeEvents() // seeding is history, not news
	s.endpoints[HubSpot] = Endpoint{
		Platform: HubSpot, BaseURL: baseURL,
		Credentials: map[string]string{"token": token, "client_id": clientID, "client_secret": clientSecret,
			"refresh_token": refresh, "webhook_secret": clientSecret, "portal_id": strconv.FormatInt(f.PortalID(), 10)},
		Config: adapter.Config{
			"base_url": baseURL, "token": token, "account": strconv.FormatInt(f.PortalID(), 10), "tier": tier,
			"webhooks": map[string]any{"client_secret": clientSecret},
		},
	}
}

func (s *Sandbox) startSalesforce(baseURL string) {
	clientID := "3MVG9sbx" + secretFor(s.seed, "sf-client-id", 40)
	clientSecret := secretFor(s.seed, "sf-client-secret", 32)
	refresh := "5Aep861" + secretFor(s.seed, "sf-refresh", 40)
	pathSecret := secretFor(s.seed, "sf-outbound-path", 24)
	f := salesforcefake.New(salesforcefake.Options{ClientID: clientID, ClientSecret: clientSecret, RefreshToken: refresh, Now: s.now})
	s.SalesforceFake = f
	d := &s.Data.Salesforce
	for _, c := range d.Companies {
		s.sfIDs[c.Ref.ID] = f.Insert("Account", map[string]any{
			"Name": c.Name, "Industry": c.Industry, "NumberOfEmployees": c.Employees,
			"AnnualRevenue": decimal(c.AnnualRevenue), "BillingCountry": countryName(c.Country),
			"Website": "https://www." + c.Domain, "Type": "Customer",
			"CreatedDate": c.UpdatedAt, "LastModifiedDate": c.UpdatedAt, "SystemModstamp": c.UpdatedAt,
		})
	}
	for _, c := range d.Contacts {
		fields := map[string]any{
			"FirstName": c.FirstName, "LastName": c.LastName, "Email": c.Emails[0], "Phone": c.Phones[0],
			"LeadSource":  c.Attributes["lead_source"],
			"CreatedDate": c.CreatedAt, "LastModifiedDate": c.UpdatedAt, "SystemModstamp": c.UpdatedAt,
		}
		if c.Ref.ObjectType == "lead" {
			company := "[not provided]"
			if c.Company != nil {
				company = c.Company.Name
				fields["Industry"] = c.Company.Industry
			}
			fields["Company"] = company
			fields["Status"] = c.Attributes["lead_status"]
			fields["Street"], fields["City"], fields["State"] = c.Address.Line1, c.Address.City, c.Address.Region
			fields["PostalCode"], fields["Country"] = c.Address.PostalCode, countryName(c.Address.Country)
			s.sfIDs[c.Ref.ID] = f.Insert("Lead", fields)
			continue
		}
		fields["MailingStreet"], fields["MailingCity"], fields["MailingState"] = c.Address.Line1, c.Address.City, c.Address.Region
		fields["MailingPostalCode"], fields["MailingCountry"] = c.Address.PostalCode, countryName(c.Address.Country)
		if c.BirthDate != "" {
			fields["Birthdate"] = c.BirthDate
		}
		if !c.CompanyRef.IsZero() {
			fields["AccountId"] = s.sfIDs[c.CompanyRef.ID]
		}
		s.sfIDs[c.Ref.ID] = f.Insert("Contact", fields)
	}
	contactAccount := map[string]string{}
	for _, c := range d.Contacts {
		if !c.CompanyRef.IsZero() {
			contactAccount[c.Ref.ID] = s.sfIDs[c.CompanyRef.ID]
		}
	}
	for _, o := range d.Orders {
		fields := map[string]any{
			"Name": "Sandbox opportunity " + o.Ref.ID, "Amount": decimal(o.Total), "StageName": o.RawStatus,
			"CloseDate": o.CreatedAt.Format("2006-01-02"), "IsWon": o.Status == domain.StatusCompleted,
			"IsClosed": o.Status != domain.StatusOpen, "ContactId": s.sfIDs[o.CustomerRef.ID], "LeadSource": "Web",
			"CreatedDate": o.CreatedAt, "LastModifiedDate": o.UpdatedAt, "SystemModstamp": o.UpdatedAt,
		}
		if o.Status == domain.StatusOpen {
			fields["CloseDate"] = s.Data.AsOf.AddDate(0, 1, 0).Format("2006-01-02")
		}
		if acc := contactAccount[o.CustomerRef.ID]; acc != "" {
			fields["AccountId"] = acc
		}
		s.sfIDs[o.Ref.ID] = f.Insert("Opportunity", fields)
	}
	opts := f.Options()
	s.endpoints[Salesforce] = Endpoint{
		Platform: Salesforce, BaseURL: baseURL,
		Credentials: map[string]string{"client_id": clientID, "client_secret": clientSecret, "refresh_token": refresh,
			"organization_id": opts.OrgID, "webhook_path_secret": pathSecret},
		Config: adapter.Config{
			"base_url": baseURL, "organization_id": opts.OrgID,
			"auth":    map[string]any{"flow": "refresh_token", "client_id": clientID, "client_secret": clientSecret, "refresh_token": refresh},
			"webhook": map[string]any{"path_secret": pathSecret},
		},
	}
	if s.Data.Currency != "USD" {
		// A single-currency org's amounts carry no currency code; the
		// connector is told the org's (the connector's default is USD).
		s.endpoints[Salesforce].Config["currency"] = s.Data.Currency
	}
}

func wooAddress(a domain.Address) (string, string, string, string, string) {
	return a.Line1, a.City, a.Region, a.PostalCode, a.Country
}

// startWoo starts the i-th WooCommerce shop (from 0) on baseURL with its
// records, under its own credentials.
func (s *Sandbox) startWoo(i int, baseURL string) *woocommercefake.Fake {
	name := ShopName(i)
	salt := ""
	d, details := &s.Data.WooCommerce, s.Data.WooOrderDetails
	if i > 0 {
		salt = "-" + strconv.Itoa(i+1)
		d, details = &s.Data.MoreShops[i-1].Records, s.Data.MoreShops[i-1].OrderDetails
	}
	ck := "ck_" + secretFor(s.seed, "woo-consumer-key"+salt, 40)
	cs := "cs_" + secretFor(s.seed, "woo-consumer-secret"+salt, 40)
	whSecret := secretFor(s.seed, "woo-webhook-secret"+salt, 32)
	f := woocommercefake.New(woocommercefake.Options{
		Keys:         []woocommercefake.Key{{ConsumerKey: ck, ConsumerSecret: cs, Permission: woocommercefake.ReadWrite}},
		SiteLocation: siteLocation,
		Now:          s.now,
	})
	custs := make([]woocommercefake.Customer, 0, len(d.Contacts))
	paying := map[string]bool{}
	for _, o := range d.Orders {
		if o.Status.IsPurchase() {
			paying[o.CustomerRef.ID] = true
		}
	}
	for _, c := range d.Contacts {
		id, _ := strconv.Atoi(c.Ref.ID)
		l1, city, region, zip, country := wooAddress(c.Address)
		company := ""
		if c.Company != nil {
			company = c.Company.Name
		}
		wc := woocommercefake.Customer{
			ID: id, Email: c.Emails[0], FirstName: c.FirstName, LastName: c.LastName,
			DateCreated: c.CreatedAt.In(siteLocation).Format(wooDate), DateCreatedGMT: c.CreatedAt.UTC().Format(wooDate),
			Billing: woocommercefake.Billing{FirstName: c.FirstName, LastName: c.LastName, Company: company, Address1: l1,
				City: city, State: region, Postcode: zip, Country: country, Email: c.Emails[0], Phone: c.Phones[0]},
			Shipping: woocommercefake.Shipping{FirstName: c.FirstName, LastName: c.LastName, Company: company, Address1: l1,
				City: city, State: region, Postcode: zip, Country: country},
			IsPayingCustomer: paying[c.Ref.ID],
		}
		for _, k := range []string{"interest", "newsletter"} {
			if v := c.Attributes[k]; v != "" {
				wc.MetaData = append(wc.MetaData, woocommercefake.Meta{Key: k, Value: v})
			}
		}
		custs = append(custs, wc)
	}
	f.AddCustomers(custs...)
	f.AddProducts(wooProducts(s.Data.Currency)...)
	people := map[string]*Person{}
	for i := range s.Data.People {
		people[s.Data.People[i].Email] = &s.Data.People[i]
	}
	orders := make([]woocommercefake.Order, 0, len(d.Orders))
	for _, o := range d.Orders {
		orders = append(orders, s.wooOrder(o, people[domain.NormalizeEmail(o.BillingEmail)], details[o.Ref.ID]))
	}
	f.AddOrders(orders...)
	adapterName := ""
	if name != WooCommerce {
		adapterName = WooCommerce
	}
	s.endpoints[name] = Endpoint{
		Platform: name, Adapter: adapterName, BaseURL: baseURL,
		Credentials: map[string]string{"consumer_key": ck, "consumer_secret": cs, "webhook_secret": whSecret},
		Config: adapter.Config{
			"base_url": baseURL, "consumer_key": ck, "consumer_secret": cs,
			"webhooks": map[string]any{"secret": whSecret},
		},
	}
	return f
}

// wooOrder renders a dataset order as WooCommerce stores it.
func (s *Sandbox) wooOrder(o domain.Order, per *Person, det WooDetails) woocommercefake.Order {
	id, _ := strconv.Atoi(o.Ref.ID)
	cust, _ := strconv.Atoi(o.CustomerRef.ID)
	wo := woocommercefake.Order{
		ID: id, Status: o.RawStatus, Currency: o.Currency, CustomerID: cust, CreatedVia: o.Channel,
		DateCreated: o.CreatedAt.In(siteLocation).Format(wooDate), DateCreatedGMT: o.CreatedAt.UTC().Format(wooDate),
		Total: decimal(o.Total), CustomerUserAgent: det.UserAgent,
		PaymentMethod: "stripe", PaymentMethodTitle: "Credit card",
		MetaData: []woocommercefake.Meta{
			{Key: "_wc_order_attribution_source_type", Value: det.SourceType},
			{Key: "_wc_order_attribution_device_type", Value: strings.ToUpper(o.Device[:1]) + o.Device[1:]},
		},
	}
	if per != nil {
		l1, city, region, zip, country := wooAddress(per.Address)
		wo.Billing = woocommercefake.Billing{FirstName: per.FirstName, LastName: per.LastName, Address1: l1, City: city,
			State: region, Postcode: zip, Country: country, Email: o.BillingEmail, Phone: nationalPhone(per.Phone, country)}
		wo.Shipping = woocommercefake.Shipping{FirstName: per.FirstName, LastName: per.LastName, Address1: l1, City: city,
			State: region, Postcode: zip, Country: country}
	} else {
		wo.Billing.Email = o.BillingEmail
	}
	if o.Status.IsPurchase() || o.Status == domain.StatusRefunded {
		paid := o.CreatedAt.Add(time.Minute).UTC().Format(wooDate)
		wo.DatePaidGMT = &paid
	}
	if o.Status == domain.StatusCompleted {
		done := o.UpdatedAt.UTC().Format(wooDate)
		wo.DateCompletedGMT = &done
	}
	for i, it := range o.Items {
		line := domain.Money{Amount: it.UnitPrice.Amount * it.Quantity, Currency: o.Currency}
		pid := 0
		for j, p := range catalog {
			if p.sku == it.SKU {
				pid = 100 + j
			}
		}
		wo.LineItems = append(wo.LineItems, woocommercefake.LineItem{
			ID: id*100 + i, Name: it.Name, ProductID: pid, Quantity: int(it.Quantity), SKU: it.SKU,
			Subtotal: decimal(line), Total: decimal(line), SubtotalTax: "0.00", TotalTax: "0.00",
			Price: jsonNumber(it.UnitPrice), MetaData: []woocommercefake.Meta{},
		})
	}
	if o.Refunded.Amount > 0 {
		wo.Refunds = []woocommercefake.Refund{{ID: id*10 + 1, Reason: "Returned item", Total: "-" + decimal(o.Refunded)}}
	}
	return wo
}

func jsonNumber(m domain.Money) json.Number { return json.Number(m.Decimal()) }

// wooProducts is the catalogue as WooCommerce products (ids 100 + index, as
// wooOrder's line items name them), each in its category.
func wooProducts(currency string) []woocommercefake.Product {
	terms := map[string]int{}
	out := make([]woocommercefake.Product, 0, len(catalog))
	for j, p := range catalog {
		term, ok := terms[p.category]
		if !ok {
			term = 20 + len(terms)
			terms[p.category] = term
		}
		price := decimal(domain.Money{Amount: p.price, Currency: currency})
		out = append(out, woocommercefake.Product{ID: 100 + j, Name: p.name, SKU: p.sku, Price: price, RegularPrice: price,
			Categories: []woocommercefake.ProductCategory{{ID: term, Name: p.category, Slug: p.category}}})
	}
	return out
}
