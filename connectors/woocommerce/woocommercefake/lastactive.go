package woocommercefake

import (
	"strconv"
	"time"
)

// LastActiveKey is the user meta in which WooCommerce records the day a
// registered customer was last active.
const LastActiveKey = "wc_last_active"

// MarkActive records that customer id was active at t, as WooCommerce
// does when a signed-in customer logs in or loads a front-end page
// (wc_user_logged_in and wc_current_user_is_active call
// wc_update_user_last_active in includes/wc-user-functions.php): the
// meta wc_last_active becomes the Unix time of t's UTC midnight, as a
// string. The customer data store does not list the key among its
// internal meta keys (includes/data-stores/class-wc-customer-data-store.php),
// so wc/v3 customers show it in meta_data. update_user_meta leaves the
// customer's last_update, and so date_modified, alone: a modified_after
// query does not see the change.
func (f *Fake) MarkActive(id int, t time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.custByID[id]
	if !ok {
		return false
	}
	day := time.Date(t.UTC().Year(), t.UTC().Month(), t.UTC().Day(), 0, 0, 0, 0, time.UTC)
	v := strconv.FormatInt(day.Unix(), 10)
	for i := range c.MetaData {
		if c.MetaData[i].Key == LastActiveKey {
			c.MetaData[i].Value = v
			return true
		}
	}
	c.MetaData = append(c.MetaData, Meta{ID: f.nextMetaID, Key: LastActiveKey, Value: v})
	f.nextMetaID++
	return true
}
