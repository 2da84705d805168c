package analyze

import (
	"slices"
)

// rfmInput is what RFM scoring needs of one buyer.
type rfmInput struct {
	recency   int32 // days since the last purchase
	frequency int   // distinct orders
	monetary  int64 // value, 1/10,000 units
}

// rfmScore is a buyer's R, F and M score (1..5, 5 best) and named group.
type rfmScore struct {
	R, F, M uint8
	Group   string
}

// scoreRFM scores buyers with the default rule: a score is
// 1 + floor(5·w/N), where w counts the buyers with a strictly worse value
// (larger recency, smaller frequency, smaller monetary) and N the buyers,
// so ties share a score. Groups come from the 11-group code list
// (PUBLISHED.md §5C) with nearestGroup for unlisted codes.
//
// This is the analyze command's own minimal scorer; the segment engine in
// core/segment owns the configurable version.
func scoreRFM(in []rfmInput) []rfmScore {
	n := len(in)
	rec := make([]int32, n)
	freq := make([]int, n)
	mon := make([]int64, n)
	for i, c := range in {
		rec[i], freq[i], mon[i] = c.recency, c.frequency, c.monetary
	}
	slices.Sort(rec)
	slices.Sort(freq)
	slices.Sort(mon)
	score := func(w int) uint8 { return uint8(1 + 5*w/n) }
	out := make([]rfmScore, n)
	for i, c := range in {
		// Worse recency: strictly larger, i.e. after the upper bound.
		hi, _ := slices.BinarySearch(rec, c.recency+1)
		wr := n - hi
		wf, _ := slices.BinarySearch(freq, c.frequency)
		wm, _ := slices.BinarySearch(mon, c.monetary)
		s := rfmScore{R: score(wr), F: score(wf), M: score(wm)}
		s.Group = rfmGroupOf(s.R, s.F, s.M)
		out[i] = s
	}
	return out
}

// rfmGroups is the 11-group code list of PUBLISHED.md §5C, in order.
var rfmGroups = []struct {
	name  string
	codes []int
}{
	{"Champions", []int{555, 554, 544, 545, 454, 455, 445}},
	{"Loyal", []int{543, 444, 435, 355, 354, 345, 344, 335}},
	{"Potential Loyalist", []int{553, 551, 552, 541, 542, 533, 532, 531, 452, 451, 442, 441, 431, 453, 433, 432, 423, 353, 352, 351, 342, 341, 333, 323}},
	{"New Customers", []int{512, 511, 422, 421, 412, 411, 311}},
	{"Promising", []int{525, 524, 523, 522, 521, 515, 514, 513, 425, 424, 413, 414, 415, 315, 314, 313}},
	{"Need Attention", []int{535, 534, 443, 434, 343, 334, 325, 324}},
	{"About To Sleep", []int{331, 321, 312, 221, 213, 231, 241, 251}},
	{"At Risk", []int{255, 254, 245, 244, 253, 252, 243, 242, 235, 234, 225, 224, 153, 152, 145, 143, 142, 135, 134, 133, 125, 124}},
	{"Can't Lose Them", []int{155, 154, 144, 214, 215, 115, 114, 113}},
	{"Hibernating", []int{332, 322, 233, 232, 223, 222, 132, 123, 122, 212, 211}},
	{"Lost", []int{111, 112, 121, 131, 141, 151}},
}

// rfmGroupOf names the group of a code. A code the list does not name
// takes the group of the nearest listed code (sum of absolute score
// differences), ties going to the group listed first.
func rfmGroupOf(r, f, m uint8) string {
	code := int(r)*100 + int(f)*10 + int(m)
	best, bestD := "", 100
	for _, g := range rfmGroups {
		for _, c := range g.codes {
			if c == code {
				return g.name
			}
			d := absInt(c/100-int(r)) + absInt(c/10%10-int(f)) + absInt(c%10-int(m))
			if d < bestD {
				best, bestD = g.name, d
			}
		}
	}
	return best
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
