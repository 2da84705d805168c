package segment

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// DefaultRFMGroups returns the 11 named groups listed as explicit RFM codes
// in Squeezely's RFM segment list (Squeezely help centre, "RFM app"). The list turns out to
// name each of the 125 codes exactly once (a test checks it), so the
// fallback rule only matters for custom groups.
func DefaultRFMGroups() []RFMGroup {
	g := func(name, codes string) RFMGroup { return RFMGroup{Name: name, Codes: strings.Fields(codes)} }
	return []RFMGroup{
		g("Champions", "555 554 544 545 454 455 445"),
		g("Loyal", "543 444 435 355 354 345 344 335"),
		g("Potential Loyalist", "553 551 552 541 542 533 532 531 452 451 442 441 431 453 433 432 423 353 352 351 342 341 333 323"),
		g("New Customers", "512 511 422 421 412 411 311"),
		g("Promising", "525 524 523 522 521 515 514 513 425 424 413 414 415 315 314 313"),
		g("Need Attention", "535 534 443 434 343 334 325 324"),
		g("About To Sleep", "331 321 312 221 213 231 241 251"),
		g("At Risk", "255 254 245 244 253 252 243 242 235 234 225 224 153 152 145 143 142 135 134 133 125 124"),
		g("Cannot Lose Them", "155 154 144 214 215 115 114 113"),
		g("Hibernating", "332 322 233 232 223 222 132 123 122 212 211"),
		g("Lost", "111 112 121 131 141 151"),
	}
}

// codePattern holds, per position (R, F, M), the allowed scores as bits 1..5.
type codePattern [3]uint8

func parseCodePattern(s string) (codePattern, error) {
	var p codePattern
	pos := 0
	for i := 0; i < len(s); {
		if pos == 3 {
			return p, fmt.Errorf("code %q has more than three positions", s)
		}
		switch c := s[i]; {
		case c >= '1' && c <= '5':
			p[pos] = 1 << (c - '0')
			i++
		case c == '*':
			p[pos] = 0b111110
			i++
		case c == '[' && i+4 < len(s) && s[i+2] == '-' && s[i+4] == ']':
			lo, hi := s[i+1], s[i+3]
			if lo < '1' || hi > '5' || lo > hi {
				return p, fmt.Errorf("code %q: range %s must be within 1-5 and ascending", s, s[i:i+5])
			}
			for d := lo; d <= hi; d++ {
				p[pos] |= 1 << (d - '0')
			}
			i += 5
		default:
			return p, fmt.Errorf("code %q: position %d must be a digit 1-5, '*' or a range like [1-3]", s, pos+1)
		}
		pos++
	}
	if pos != 3 {
		return p, fmt.Errorf("code %q must have three positions (R, F, M)", s)
	}
	return p, nil
}

func (p codePattern) matches(r, f, m uint8) bool {
	return p[0]&(1<<r) != 0 && p[1]&(1<<f) != 0 && p[2]&(1<<m) != 0
}

// rfmCell is the decision for one of the 125 codes.
type rfmCell struct {
	group   int8  // group index
	listed  bool  // a group lists the code
	nearest uint8 // for fallback-by-nearest: the listed code used (r*25+f*5+m offsets)
}

func codeIndex(r, f, m uint8) int { return int(r-1)*25 + int(f-1)*5 + int(m-1) }

func codeString(i int) string {
	return fmt.Sprintf("%d%d%d", i/25+1, i/5%5+1, i%5+1)
}

// rfmTable maps every code to a group according to the groups and fallback.
func rfmTable(groups []RFMGroup, fallback string) ([125]rfmCell, error) {
	var t [125]rfmCell
	pats := make([][]codePattern, len(groups))
	for gi, g := range groups {
		for _, c := range g.Codes {
			p, err := parseCodePattern(c)
			if err != nil {
				return t, err
			}
			pats[gi] = append(pats[gi], p)
		}
	}
	listed := make([]int, 0, 125)
	for i := range t {
		r, f, m := uint8(i/25+1), uint8(i/5%5+1), uint8(i%5+1)
		t[i].group = -1
	outer:
		for gi := range groups {
			for _, p := range pats[gi] {
				if p.matches(r, f, m) {
					t[i] = rfmCell{group: int8(gi), listed: true, nearest: uint8(i)}
					listed = append(listed, i)
					break outer
				}
			}
		}
	}
	if fallback != "nearest" {
		fg := slices.IndexFunc(groups, func(g RFMGroup) bool { return g.Name == fallback })
		if fg < 0 {
			return t, fmt.Errorf("fallback group %q is not among the groups", fallback)
		}
		for i := range t {
			if !t[i].listed {
				t[i].group = int8(fg)
				t[i].nearest = uint8(i)
			}
		}
		return t, nil
	}
	if len(listed) == 0 {
		return t, fmt.Errorf("no group lists any code")
	}
	for i := range t {
		if t[i].listed {
			continue
		}
		best, bestD := -1, math.MaxInt
		for _, j := range listed {
			d := absInt(i/25-j/25) + absInt(i/5%5-j/5%5) + absInt(i%5-j%5)
			// ties: higher R, then F, then M, which is the larger index
			if d < bestD || (d == bestD && j > best) {
				best, bestD = j, d
			}
		}
		t[i] = rfmCell{group: t[best].group, nearest: uint8(best)}
	}
	return t, nil
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// rankCuts are the cut points of rank scoring, 1 + floor(5·w/N), for one
// population: for scores 2..5 the least good value that earns the score
// (recency as a maximum number of days, frequency and monetary as
// minimums). For every value present in the population, comparing with
// the cut points gives exactly the rank score; they are found in linear
// time (counting for small integer ranges, selection otherwise), so a
// million buyers need no sort.
type rankCuts struct {
	n    int
	rec  [4]int32
	freq [4]int32
	mon  [4]int64
}

// need returns ceil(k·n/5): a score above k needs w ≥ that.
func need(k, n int) int { return (k*n + 4) / 5 }

func newRankCuts(feats []Features, workers int) *rankCuts {
	n := 0
	maxRec, maxFreq, minRec := int32(0), int32(0), int32(0)
	for i := range feats {
		if f := &feats[i]; f.Orders > 0 {
			n++
			maxRec = max(maxRec, f.RecencyDays)
			minRec = min(minRec, f.RecencyDays) // negative only after an overflow on absurd days
			maxFreq = max(maxFreq, f.Orders)
		}
	}
	rc := &rankCuts{n: n}
	parallelDo(workers,
		func() {
			// recency, lower is better: w(v) = buyers with larger recency
			if maxRec < 1<<22 && minRec >= 0 {
				hist := make([]int32, maxRec+1)
				for i := range feats {
					if feats[i].Orders > 0 {
						hist[feats[i].RecencyDays]++
					}
				}
				for k := 1; k <= 4; k++ {
					rc.rec[k-1] = -1
					above := 0
					for v := int(maxRec); v >= 0; v-- {
						if hist[v] > 0 && above >= need(k, n) {
							rc.rec[k-1] = int32(v)
							break
						}
						above += int(hist[v])
					}
				}
				return
			}
			vals := make([]int64, 0, n)
			for i := range feats {
				if feats[i].Orders > 0 {
					vals = append(vals, -int64(feats[i].RecencyDays))
				}
			}
			for k, c := range cutsUp(vals) {
				rc.rec[k] = int32(-c)
				if c == math.MaxInt64 {
					rc.rec[k] = -1
				}
			}
		},
		func() {
			if maxFreq < 1<<22 {
				hist := make([]int32, maxFreq+1)
				for i := range feats {
					if feats[i].Orders > 0 {
						hist[feats[i].Orders]++
					}
				}
				for k := 1; k <= 4; k++ {
					rc.freq[k-1] = math.MaxInt32
					below := 0
					for v := range hist {
						if hist[v] > 0 && below >= need(k, n) {
							rc.freq[k-1] = int32(v)
							break
						}
						below += int(hist[v])
					}
				}
				return
			}
			vals := make([]int64, 0, n)
			for i := range feats {
				if feats[i].Orders > 0 {
					vals = append(vals, int64(feats[i].Orders))
				}
			}
			for k, c := range cutsUp(vals) {
				rc.freq[k] = int32(min(c, math.MaxInt32))
			}
		},
		func() {
			vals := make([]int64, 0, n)
			for i := range feats {
				if feats[i].Orders > 0 {
					vals = append(vals, feats[i].Monetary)
				}
			}
			rc.mon = cutsUp(vals)
		},
	)
	return rc
}

// cutsUp returns, for k = 1..4, the least value u of vals with
// #(vals < u) ≥ ceil(k·n/5), or MaxInt64 when there is none. It reorders vals.
func cutsUp(vals []int64) [4]int64 {
	var out [4]int64
	n := len(vals)
	// nested selection, largest index first: after it, vals[:nd] holds the
	// nd smallest values (all ≤ the selected one), the rest are ≥ it, and
	// the next selection only needs the prefix
	hi := n
	for k := 4; k >= 1; k-- {
		out[k-1] = math.MaxInt64
		nd := need(k, n)
		if nd >= n {
			continue
		}
		if nd < hi {
			selectNth(vals[:hi], nd)
		}
		hi = nd
		v := vals[nd]
		less := 0
		for _, x := range vals[:nd] {
			if x < v {
				less++
			}
		}
		if less >= nd {
			out[k-1] = v // no tie straddles the boundary
			continue
		}
		next := int64(math.MaxInt64)
		for _, x := range vals[nd+1:] {
			if x > v && x < next {
				next = x
			}
		}
		out[k-1] = next
	}
	return out
}

// score applies the cut points.
func (rc *rankCuts) score(f *Features) (r, fr, m uint8) {
	r, fr, m = 1, 1, 1
	for k := 0; k < 4; k++ {
		if f.RecencyDays <= rc.rec[k] {
			r++
		}
		if f.Orders >= rc.freq[k] {
			fr++
		}
		if f.Monetary >= rc.mon[k] {
			m++
		}
	}
	return
}

// fixedScore applies fixed cut points.
func fixedScoreUp(v float64, cuts []float64) uint8 {
	s := uint8(1)
	for _, c := range cuts {
		if v >= c {
			s++
		}
	}
	return s
}

func fixedScoreRecency(days float64, cuts []float64) uint8 {
	s := uint8(5)
	for _, c := range cuts {
		if days > c {
			s--
		}
	}
	return s
}

// RFMScore is one customer's scores and group under an rfm definition.
type RFMScore struct {
	R, F, M uint8
	Group   string // display name, e.g. "Champions"
	Listed  bool   // whether the group lists the code (else the fallback decided)
}

// Code is the three-digit code, e.g. "545".
func (s RFMScore) Code() string { return fmt.Sprintf("%d%d%d", s.R, s.F, s.M) }

// parallelDo runs the functions on up to workers goroutines.
func parallelDo(workers int, fns ...func()) {
	if workers <= 1 {
		for _, fn := range fns {
			fn()
		}
		return
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn()
		}()
	}
	wg.Wait()
}
