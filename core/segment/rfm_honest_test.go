package segment

import (
	"testing"
	"time"
)

// rfmMeaning is what each default group's name promises, written
// independently of its code list: score ranges, and whether its members
// must have bought more than once.
type rfmMeaning struct {
	rLo, rHi, fLo, fHi, mLo, mHi uint8
	repeat                       bool
	// either: alternative condition that also satisfies the meaning
	either func(s RFMScore) bool
}

func rfmMeanings() map[string]rfmMeaning {
	return map[string]rfmMeaning{
		// bought recently, often and much
		"Champions": {rLo: 4, rHi: 5, fLo: 4, fHi: 5, mLo: 4, mHi: 5, repeat: true},
		// recent enough and frequent
		"Loyal": {rLo: 3, rHi: 5, fLo: 3, fHi: 5, mLo: 1, mHi: 5, repeat: true},
		// recent, bought more than once
		"Potential Loyalist": {rLo: 3, rHi: 5, fLo: 2, fHi: 5, mLo: 1, mHi: 5, repeat: true},
		// recent, few orders
		"New Customers": {rLo: 3, rHi: 5, fLo: 1, fHi: 2, mLo: 1, mHi: 5},
		"Promising":     {rLo: 3, rHi: 5, fLo: 1, fHi: 2, mLo: 1, mHi: 5},
		// average or better on every count, more than one order
		"Need Attention": {rLo: 3, rHi: 5, fLo: 2, fHi: 5, mLo: 3, mHi: 5, repeat: true},
		// slipping away, and either rarely bought or spent little
		"About To Sleep": {rLo: 2, rHi: 3, fLo: 1, fHi: 5, mLo: 1, mHi: 5,
			either: func(s RFMScore) bool { return s.F <= 2 || s.M == 1 }},
		// bought more than once and spent, but not lately
		"At Risk": {rLo: 1, rHi: 2, fLo: 2, fHi: 5, mLo: 2, mHi: 5, repeat: true},
		// bought often and much, but long ago
		"Cannot Lose Them": {rLo: 1, rHi: 1, fLo: 4, fHi: 5, mLo: 4, mHi: 5, repeat: true},
		// long ago, middling or less on every count
		"Hibernating": {rLo: 1, rHi: 3, fLo: 1, fHi: 3, mLo: 1, mHi: 3},
		// long gone, and bought once or spent least
		"Lost": {rLo: 1, rHi: 1, fLo: 1, fHi: 5, mLo: 1, mHi: 5,
			either: func(s RFMScore) bool { return s.F == 1 || s.M == 1 }},
	}
}

// checkRFMHonest fails the test for every customer whose default RFM group
// contradicts what the group's name promises, and for one-time buyers
// whose frequency score is above 1.
func checkRFMHonest(t *testing.T, ds *Dataset, asOf time.Time) {
	t.Helper()
	r := run(t, ds, asOf, []any{map[string]any{"name": "rfm", "kind": "rfm"}}, Options{})
	means := rfmMeanings()
	type agg struct{ n, bad, once, orders int }
	groups := map[string]*agg{}
	for i := range ds.Customers {
		s, ok := r.RFM(i)
		if !ok {
			continue
		}
		g := groups[s.Group]
		if g == nil {
			g = &agg{}
			groups[s.Group] = g
		}
		g.n++
		orders := int(r.Features[i].Orders)
		g.orders += orders
		if orders == 1 {
			g.once++
			if s.F != 1 {
				t.Errorf("customer %s bought once but has F=%d", ds.Customers[i].ID, s.F)
			}
		}
		m, ok := means[s.Group]
		if !ok {
			t.Fatalf("group %q has no stated meaning", s.Group)
		}
		okScores := s.R >= m.rLo && s.R <= m.rHi && s.F >= m.fLo && s.F <= m.fHi && s.M >= m.mLo && s.M <= m.mHi &&
			(m.either == nil || m.either(s)) && (!m.repeat || orders >= 2)
		if !okScores {
			g.bad++
			if g.bad <= 3 {
				t.Errorf("%s in %q: code %s, %d orders, contradicts the group", ds.Customers[i].ID, s.Group, s.Code(), orders)
			}
		}
	}
	for name, g := range groups {
		t.Logf("%-18s %6d members, %5.2f orders on average, %5d one-time buyers, %d contradicting", name, g.n, float64(g.orders)/float64(g.n), g.once, g.bad)
	}
}

func TestRFMGroupsMatchTheirNamesCDNOW(t *testing.T) {
	checkRFMHonest(t, loadCDNOW(t, "data/cdnow/CDNOW_master.txt", 0, 1), time.Date(1998, 7, 1, 0, 0, 0, 0, time.UTC))
}

func TestRFMGroupsMatchTheirNamesOnlineRetail(t *testing.T) {
	checkRFMHonest(t, loadOnlineRetail(t), onlineRetailAsOf)
}
