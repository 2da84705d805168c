package sqlstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// writeOrders upserts changed orders, replaces their line items and deletes
// removed orders.
func (u *unit) writeOrders(ctx context.Context) error {
	tx, e := u.tx, u.e
	var StoredOrders, itemRows [][]any
	var written []string
	for _, k := range slices.Sorted(maps.Keys(u.OrderWrites)) {
		w := u.OrderWrites[k]
		o := w.Order
		pid := u.Resolve(w.ProfileID)
		u.Touched[pid] = true
		w.Digest = w.DigestFor(pid)
		billing := o.BillingEmail
		items := o.Items
		ckey := ""
		if !o.CustomerRef.IsZero() {
			ckey = o.CustomerRef.Key()
		}
		StoredOrders = append(StoredOrders, []any{k, o.Ref.Platform, o.Ref.Account, o.Ref.ObjectType, o.Ref.ID, pid, ckey, billing,
			ts(o.CreatedAt), ts(o.UpdatedAt), string(o.Status), o.Currency, o.Total.Amount, o.Refunded.Amount, w.Digest, encodeOrderDoc(&o)})
		written = append(written, k)
		for i, it := range items {
			cur := it.UnitPrice.Currency
			if cur == "" {
				cur = o.Currency
			}
			itemRows = append(itemRows, []any{k, i, it.SKU, it.Name, it.Category, it.Quantity, it.UnitPrice.Amount, cur})
		}
	}
	orderCols := []string{"ref_key", "platform", "account", "object_type", "ext_id", "profile_id", "customer_key", "billing_email",
		"created_at", "updated_at", "status", "currency", "total", "refunded", "digest", "data"}
	// An order is new unless load found it (every order of the page is
	// looked up).
	isNew := func(r []any) bool { _, ok := u.Orders[r[0].(string)]; return !ok }
	if err := u.bulkWriteSplit(ctx, "orders", orderCols, upsertSuffix(orderCols, "ref_key"), StoredOrders, isNew); err != nil {
		return err
	}
	var existing []string
	for _, k := range written {
		if _, ok := u.Orders[k]; ok {
			existing = append(existing, k)
		}
	}
	dels := append(existing, slices.Collect(maps.Keys(u.OrderDeletes))...)
	if err := inList(dels, func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM order_items WHERE order_key IN `+list), args...); err != nil {
			return fmt.Errorf("replacing order items: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := inList(slices.Collect(maps.Keys(u.OrderDeletes)), func(list string, args []any) error {
		if _, err := tx.ExecContext(ctx, e.q(`DELETE FROM orders WHERE ref_key IN `+list), args...); err != nil {
			return fmt.Errorf("deleting orders: %w", err)
		}
		return nil
	}); err != nil {
		return err
	}
	if err := u.bulkWrite(ctx, "order_items", []string{"order_key", "line_no", "sku", "name", "category", "quantity", "unit_price", "currency"}, "", itemRows); err != nil {
		return err
	}
	return nil
}
