package woocommercefake

import "encoding/json"

// Meta is one meta_data entry as WooCommerce returns it.
type Meta struct {
	ID    int    `json:"id"`
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// Billing is a billing address; WooCommerce keeps the order's and the
// customer's contact email and phone here.
type Billing struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Company   string `json:"company"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// Shipping is a shipping address (no email).
type Shipping struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Company   string `json:"company"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Phone     string `json:"phone"`
}

// Customer is a /wc/v3/customers resource. Dates are set by the fake when
// left empty: date_* in site-local time and date_*_gmt in UTC, both
// without a zone suffix, as WooCommerce renders them.
type Customer struct {
	ID               int      `json:"id"`
	DateCreated      string   `json:"date_created"`
	DateCreatedGMT   string   `json:"date_created_gmt"`
	DateModified     string   `json:"date_modified"`
	DateModifiedGMT  string   `json:"date_modified_gmt"`
	Email            string   `json:"email"`
	FirstName        string   `json:"first_name"`
	LastName         string   `json:"last_name"`
	Role             string   `json:"role"`
	Username         string   `json:"username"`
	Billing          Billing  `json:"billing"`
	Shipping         Shipping `json:"shipping"`
	IsPayingCustomer bool     `json:"is_paying_customer"`
	AvatarURL        string   `json:"avatar_url"`
	MetaData         []Meta   `json:"meta_data"`
}

// LineItem is one line of an order. Price is a JSON number in WooCommerce
// while the totals are strings.
type LineItem struct {
	ID          int         `json:"id"`
	Name        string      `json:"name"`
	ProductID   int         `json:"product_id"`
	VariationID int         `json:"variation_id"`
	Quantity    int         `json:"quantity"`
	TaxClass    string      `json:"tax_class"`
	Subtotal    string      `json:"subtotal"`
	SubtotalTax string      `json:"subtotal_tax"`
	Total       string      `json:"total"`
	TotalTax    string      `json:"total_tax"`
	SKU         string      `json:"sku"`
	Price       json.Number `json:"price"`
	MetaData    []Meta      `json:"meta_data"`
}

// Refund is a refund summary inside an order; Total is negative.
type Refund struct {
	ID     int    `json:"id"`
	Reason string `json:"reason"`
	Total  string `json:"total"`
}

// Order is a /wc/v3/orders resource.
type Order struct {
	ID                 int        `json:"id"`
	ParentID           int        `json:"parent_id"`
	Number             string     `json:"number"`
	OrderKey           string     `json:"order_key"`
	CreatedVia         string     `json:"created_via"`
	Version            string     `json:"version"`
	Status             string     `json:"status"`
	Currency           string     `json:"currency"`
	DateCreated        string     `json:"date_created"`
	DateCreatedGMT     string     `json:"date_created_gmt"`
	DateModified       string     `json:"date_modified"`
	DateModifiedGMT    string     `json:"date_modified_gmt"`
	DiscountTotal      string     `json:"discount_total"`
	DiscountTax        string     `json:"discount_tax"`
	ShippingTotal      string     `json:"shipping_total"`
	ShippingTax        string     `json:"shipping_tax"`
	CartTax            string     `json:"cart_tax"`
	Total              string     `json:"total"`
	TotalTax           string     `json:"total_tax"`
	PricesIncludeTax   bool       `json:"prices_include_tax"`
	CustomerID         int        `json:"customer_id"`
	CustomerIPAddress  string     `json:"customer_ip_address"`
	CustomerUserAgent  string     `json:"customer_user_agent"`
	CustomerNote       string     `json:"customer_note"`
	Billing            Billing    `json:"billing"`
	Shipping           Shipping   `json:"shipping"`
	PaymentMethod      string     `json:"payment_method"`
	PaymentMethodTitle string     `json:"payment_method_title"`
	TransactionID      string     `json:"transaction_id"`
	DatePaid           *string    `json:"date_paid"`
	DatePaidGMT        *string    `json:"date_paid_gmt"`
	DateCompleted      *string    `json:"date_completed"`
	DateCompletedGMT   *string    `json:"date_completed_gmt"`
	CartHash           string     `json:"cart_hash"`
	MetaData           []Meta     `json:"meta_data"`
	LineItems          []LineItem `json:"line_items"`
	Refunds            []Refund   `json:"refunds"`
}

// Webhook is a /wc/v3/webhooks resource. The secret is write-only.
type Webhook struct {
	ID              int      `json:"id"`
	Name            string   `json:"name"`
	Status          string   `json:"status"`
	Topic           string   `json:"topic"`
	Resource        string   `json:"resource"`
	Event           string   `json:"event"`
	Hooks           []string `json:"hooks"`
	DeliveryURL     string   `json:"delivery_url"`
	DateCreated     string   `json:"date_created"`
	DateCreatedGMT  string   `json:"date_created_gmt"`
	DateModified    string   `json:"date_modified"`
	DateModifiedGMT string   `json:"date_modified_gmt"`
}

// apiError is WooCommerce's (WordPress REST's) error body.
type apiError struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Data    map[string]any `json:"data"`
}
