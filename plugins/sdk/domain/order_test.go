package domain

import "testing"

func TestOrderStatusIsPurchase(t *testing.T) {
	want := map[OrderStatus]bool{
		StatusPending: false, StatusProcessing: true, StatusOnHold: false, StatusCompleted: true,
		StatusCancelled: false, StatusRefunded: false, StatusFailed: false, StatusOpen: false, StatusLost: false,
		"": false, "shipped": false,
	}
	for s, w := range want {
		if got := s.IsPurchase(); got != w {
			t.Errorf("%q.IsPurchase() = %v, want %v", s, got, w)
		}
	}
}

func TestOrderNet(t *testing.T) {
	for _, tc := range []struct {
		total, refunded Money
		want            Money
	}{
		{Money{1000, "EUR"}, Money{}, Money{1000, "EUR"}},
		{Money{1000, "EUR"}, Money{250, "EUR"}, Money{750, "EUR"}},
		{Money{1000, "EUR"}, Money{1000, "EUR"}, Money{0, "EUR"}},
		{Money{1500, "JPY"}, Money{500, "JPY"}, Money{1000, "JPY"}},
	} {
		o := Order{Total: tc.total, Refunded: tc.refunded}
		if got := o.Net(); got != tc.want {
			t.Errorf("Net of %v − %v = %v, want %v", tc.total, tc.refunded, got, tc.want)
		}
	}
}
