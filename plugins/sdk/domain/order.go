package domain

import "time"

// OrderStatus is a platform status mapped to a common set.
type OrderStatus string

// Normalised order statuses.
const (
	StatusPending    OrderStatus = "pending"    // created, not paid
	StatusProcessing OrderStatus = "processing" // paid, not fulfilled
	StatusOnHold     OrderStatus = "on_hold"
	StatusCompleted  OrderStatus = "completed"
	StatusCancelled  OrderStatus = "cancelled"
	StatusRefunded   OrderStatus = "refunded" // fully refunded
	StatusFailed     OrderStatus = "failed"
	StatusOpen       OrderStatus = "open" // an open deal or opportunity, not a purchase yet
	StatusLost       OrderStatus = "lost" // a deal or opportunity closed lost
)

// IsPurchase reports whether an order with this status counts as revenue:
// processing and completed orders do; pending, on-hold, cancelled,
// refunded, failed, open and lost ones do not. Partial refunds are carried
// in Order.Refunded and subtracted by the core.
func (s OrderStatus) IsPurchase() bool {
	return s == StatusProcessing || s == StatusCompleted
}

// LineItem is one line of an order.
type LineItem struct {
	SKU       string `json:"sku,omitempty"`
	Name      string `json:"name,omitempty"`
	Category  string `json:"category,omitempty"`
	Quantity  int64  `json:"quantity"`
	UnitPrice Money  `json:"unit_price"`
}

// Order is a purchase (or, with StatusOpen/StatusLost, a sales opportunity).
// Times are UTC.
type Order struct {
	Ref          ExternalRef `json:"ref"`
	CustomerRef  ExternalRef `json:"customer_ref,omitzero"` // the platform contact; empty for guests
	BillingEmail string      `json:"billing_email,omitempty"`
	CreatedAt    time.Time   `json:"created_at"`
	UpdatedAt    time.Time   `json:"updated_at,omitzero"`
	Status       OrderStatus `json:"status"`
	RawStatus    string      `json:"raw_status,omitempty"` // the platform's own word
	Currency     string      `json:"currency"`
	Total        Money       `json:"total"`
	Refunded     Money       `json:"refunded,omitzero"` // sum of refunds, positive
	Items        []LineItem  `json:"items,omitempty"`
	Channel      string      `json:"channel,omitempty"` // created_via, source: web, pos, admin, checkout
	Device       string      `json:"device,omitempty"`  // desktop, mobile, tablet, from the user agent
}

// Net returns the total minus refunds.
func (o *Order) Net() Money {
	return Money{Amount: o.Total.Amount - o.Refunded.Amount, Currency: o.Total.Currency}
}
