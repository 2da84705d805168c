package pipeline

import (
	"encoding/json"
	"testing"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// TestReturnsCountsSwingsBack: only a state going back to one written
// before the previous write counts; a state that moves on never does.
func TestReturnsCountsSwingsBack(t *testing.T) {
	for _, tc := range []struct {
		seq  []string
		want int
	}{
		{[]string{"a", "b", "c", "d"}, 0},     // moving on
		{[]string{"a", "b", "a"}, 1},          // one swing back
		{[]string{"a", "b", "a", "b"}, 2},     // flapping
		{[]string{"a", "a", "a"}, 0},          // the same state again
		{[]string{"a", "b", "", "a", "b"}, 2}, // a payload without a state is skipped
		{[]string{"new", "repeat", "loyal"}, 0},
	} {
		if got := returns(tc.seq); got != tc.want {
			t.Errorf("returns(%q) = %d, want %d", tc.seq, got, tc.want)
		}
	}
}

// TestWantTextIsWantOfTheEncoding: the flap guard compares a new item's
// desired state, read from the plan, with those of items written
// before, read from their encoded payloads; the two texts agree.
func TestWantTextIsWantOfTheEncoding(t *testing.T) {
	for _, pay := range []outboxPayload{
		{Item: adapter.PushItem{ID: "contact/1"}},
		{Want: &state{}},
		{Want: &state{Props: map[string]string{}, Lists: map[string]bool{}}},
		{Want: &state{Props: map[string]string{"prop:rfm": "Champions <&>", "prop:a": ""}, Lists: map[string]bool{"list:vip": true, "list:lapsed": false}}},
		{Want: &state{Props: map[string]string{"prop:name": "bad \xff utf-8"}}},
	} {
		b, err := json.Marshal(pay)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := wantText(pay), wantOf(b); got != want {
			t.Errorf("wantText = %q; wantOf its encoding = %q", got, want)
		}
	}
}
