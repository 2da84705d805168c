package pipeline

import "testing"

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
