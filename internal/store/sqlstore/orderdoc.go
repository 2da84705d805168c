package sqlstore

import (
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// orderDoc is what orders.data keeps of an order: only what no column of
// the row holds. The reference, customer key, billing email, times,
// status, currency and amounts are columns, the line items rows of
// order_items; storing them again as JSON doubled the bytes of an order
// and the work of writing and reading it. Rows written before kept the
// whole order (less billing email and items) in data; decodeOrder reads
// both.
type orderDoc struct {
	// CustomerRef is kept only when customer_key does not give it back
	// (an account or object type with a '/').
	CustomerRef domain.ExternalRef `json:"customer_ref,omitzero"`
	// RefModified is the reference's LastModified, kept only when it is
	// not the order's UpdatedAt.
	RefModified *time.Time `json:"ref_modified,omitempty"`
	RawStatus   string     `json:"raw_status,omitempty"`
	// Total and Refunded are kept only when their currency is not the
	// order's (or, for Refunded, when it is zero but names a currency).
	Total    *domain.Money `json:"total,omitempty"`
	Refunded *domain.Money `json:"refunded,omitempty"`
	Channel  string        `json:"channel,omitempty"`
	Device   string        `json:"device,omitempty"`
}

// encodeOrderDoc returns orders.data for o: "" when the columns hold
// all of it.
func encodeOrderDoc(o *domain.Order) string {
	d := orderDoc{RawStatus: o.RawStatus, Channel: o.Channel, Device: o.Device}
	if !o.CustomerRef.IsZero() && parseRefKey(o.CustomerRef.Key()) != o.CustomerRef {
		d.CustomerRef = o.CustomerRef
	}
	if !o.Ref.LastModified.Equal(o.UpdatedAt) {
		t := o.Ref.LastModified
		d.RefModified = &t
	}
	if o.Total.Currency != o.Currency {
		t := o.Total
		d.Total = &t
	}
	if o.Refunded != (domain.Money{}) && (o.Refunded.Amount == 0 || o.Refunded.Currency != o.Currency) {
		r := o.Refunded
		d.Refunded = &r
	}
	if d == (orderDoc{}) {
		return ""
	}
	b, _ := json.Marshal(d) // plain strings and numbers: cannot fail
	return string(b)
}

// parseRefKey reverses ExternalRef.Key where the parts before the id
// have no '/'.
func parseRefKey(k string) domain.ExternalRef {
	p := strings.SplitN(k, "/", 4)
	if len(p) != 4 {
		return domain.ExternalRef{}
	}
	return domain.ExternalRef{Platform: p[0], Account: p[1], ObjectType: p[2], ID: p[3]}
}

// orderColumns are the columns of orders that orderRow.scan reads, in
// its order.
const orderColumns = "ref_key, profile_id, platform, account, object_type, ext_id, customer_key, billing_email, " +
	"created_at, updated_at, status, currency, total, refunded, data"

// orderRow is one scanned row of orders.
type orderRow struct {
	key, pid                         string
	platform, account, object, extID string
	customerKey, billing             string
	created, updated                 int64
	status, currency                 string
	total, refunded                  int64
	data                             []byte
}

func (r *orderRow) scan(rows *sql.Rows) error {
	return rows.Scan(&r.key, &r.pid, &r.platform, &r.account, &r.object, &r.extID, &r.customerKey, &r.billing,
		&r.created, &r.updated, &r.status, &r.currency, &r.total, &r.refunded, &r.data)
}

// storedOrder is what data may hold: an orderDoc, or the whole order of
// rows written before orderDoc. The pointers tell whether the document
// named an amount at all.
type storedOrder struct {
	domain.Order
	RefModified *time.Time    `json:"ref_modified"`
	Total       *domain.Money `json:"total"`
	Refunded    *domain.Money `json:"refunded"`
}

// decode rebuilds the order from the row; unmarshal is the JSON decoder
// to use. The billing email comes from its column (data never holds it).
func (r *orderRow) decode(unmarshal func([]byte, any) error) (domain.Order, error) {
	var s storedOrder
	if len(r.data) > 0 {
		if err := unmarshal(r.data, &s); err != nil {
			return domain.Order{}, err
		}
	}
	o := s.Order
	o.BillingEmail = r.billing
	if o.Ref.IsZero() {
		// An orderDoc: the columns hold the rest. (Whole orders of
		// earlier rows carry it all, at full time precision.)
		o.Ref = domain.ExternalRef{Platform: r.platform, Account: r.account, ObjectType: r.object, ID: r.extID, LastModified: fromTS(r.updated)}
		if s.RefModified != nil {
			o.Ref.LastModified = *s.RefModified
		}
		if o.CustomerRef.IsZero() && r.customerKey != "" {
			o.CustomerRef = parseRefKey(r.customerKey)
		}
		o.CreatedAt, o.UpdatedAt = fromTS(r.created), fromTS(r.updated)
		o.Status, o.Currency = domain.OrderStatus(r.status), r.currency
	}
	o.Total = domain.Money{Amount: r.total, Currency: r.currency}
	if s.Total != nil {
		o.Total = *s.Total
	}
	switch {
	case s.Refunded != nil:
		o.Refunded = *s.Refunded
	case r.refunded != 0:
		o.Refunded = domain.Money{Amount: r.refunded, Currency: r.currency}
	default:
		o.Refunded = domain.Money{}
	}
	return o, nil
}
