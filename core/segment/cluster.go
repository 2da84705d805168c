package segment

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// The cluster kind: k-means on standardised log features of buyers.
//
//  1. Each chosen feature is log1p-transformed (recency in days, money in
//     major units; engagement totals, where unknown, count as 0: the
//     days since the latest engagement is no feature because an unknown
//     one has no neutral value) and standardised with the mean and standard deviation
//     over all buyers.
//  2. Centres are fitted on a deterministic sample of at most Sample buyers
//     (FNV-1a hash of the customer id below a threshold), so a million
//     customers cost the same as Sample.
//  3. For each k in [KMin, KMax]: k-means++ seeding from a PCG generator
//     seeded with (Seed, k), then Lloyd iterations until no point moves or
//     MaxIter. The mean silhouette is computed on the first
//     SilhouetteSample points of the sample (exact pairwise distances).
//     The k with the highest silhouette wins; ties go to the smaller k.
//  4. Clusters are ordered best first (by the sum of standardised
//     frequency-like features minus standardised recency) and named c1…ck;
//     each is described in words from its centre, e.g. "recent, frequent,
//     high spend". Every buyer is assigned to the nearest centre; non-buyers
//     to none.
type clusterKind struct{ p ClusterParams }

type clusterFitted struct {
	p       ClusterParams
	mean    []float64
	std     []float64
	centres [][]float64
	words   []string
	sil     float64
	sils    map[int]float64
	scale   float64
	// engagement: some feature reads the engagement attributes
	engagement bool
}

func (f *clusterFitted) vector(c *Customer, ft *Features, out []float64) {
	var eng Engagement
	if f.engagement {
		eng = EngagementOf(c.Attrs, 0)
	}
	for j, name := range f.p.Features {
		var v float64
		switch name {
		case "page_views":
			v = float64(eng.PageViews)
		case "visits":
			v = float64(eng.Visits)
		case "email_opens":
			v = float64(eng.EmailOpens)
		case "email_clicks":
			v = float64(eng.EmailClicks)
		case "form_submissions":
			v = float64(eng.FormSubmissions)
		case "recency":
			v = float64(ft.RecencyDays)
		case "frequency":
			v = float64(ft.Orders)
		case "monetary":
			v = float64(ft.Monetary) / f.scale
		case "aov":
			v = ft.AOV() / f.scale
		case "tenure":
			v = float64(ft.TenureDays)
		case "items_per_order":
			v = ft.ItemsPerOrder()
		case "categories":
			v = float64(ft.DistinctCategories())
		}
		v = math.Log1p(max(v, 0))
		if f.std != nil {
			v = (v - f.mean[j]) / f.std[j]
		}
		out[j] = v
	}
}

func (k *clusterKind) fit(ctx context.Context, fc *fitContext) (fitted, error) {
	p := k.p
	d := len(p.Features)
	f := &clusterFitted{p: p, scale: math.Pow10(domain.CurrencyExponent(fc.ds.Currency)), sils: map[int]float64{}}
	for _, name := range p.Features {
		f.engagement = f.engagement || slices.Contains(engagementClusterFeatures(), name)
	}
	buyers := 0
	sum, sq := make([]float64, d), make([]float64, d)
	v := make([]float64, d)
	for i := range fc.feats {
		if fc.feats[i].Orders == 0 {
			continue
		}
		buyers++
		f.vector(&fc.ds.Customers[i], &fc.feats[i], v)
		for j := range v {
			sum[j] += v[j]
			sq[j] += v[j] * v[j]
		}
	}
	if buyers < p.KMin*2 {
		fc.warn("under-segmentation", fc.def.Name, "%d buyers are too few to cluster (need %d)", buyers, p.KMin*2)
		return f, nil
	}
	f.mean, f.std = make([]float64, d), make([]float64, d)
	for j := range sum {
		f.mean[j] = sum[j] / float64(buyers)
		f.std[j] = math.Sqrt(max(sq[j]/float64(buyers)-f.mean[j]*f.mean[j], 0))
		if f.std[j] == 0 {
			f.std[j] = 1
		}
	}
	share := min(1, float64(p.Sample)/float64(buyers))
	var pts [][]float64
	for i := range fc.feats {
		if fc.feats[i].Orders == 0 || !sampled(fc.ds.Customers[i].ID, share) {
			continue
		}
		x := make([]float64, d)
		f.vector(&fc.ds.Customers[i], &fc.feats[i], x)
		pts = append(pts, x)
	}
	if len(pts) < p.KMin*2 {
		return f, nil
	}
	silN := min(len(pts), p.SilhouetteSample)
	best := math.Inf(-1)
	for kk := p.KMin; kk <= min(p.KMax, len(pts)-1); kk++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c, assign := kmeans(pts, kk, p.Seed, p.MaxIter)
		s := silhouette(pts[:silN], assign[:silN], kk)
		f.sils[kk] = s
		if s > best {
			best, f.centres, f.sil = s, c, s
		}
	}
	// order best first
	score := func(c []float64) float64 {
		s := 0.0
		for j, name := range p.Features {
			if name == "recency" {
				s -= c[j]
			} else {
				s += c[j]
			}
		}
		return s
	}
	slices.SortStableFunc(f.centres, func(a, b []float64) int {
		sa, sb := score(a), score(b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	for _, c := range f.centres {
		f.words = append(f.words, describeCentre(p.Features, c))
	}
	return f, nil
}

func describeCentre(names []string, c []float64) string {
	words := make([]string, 0, len(names))
	for j, name := range names {
		lvl := 1
		if c[j] > 0.5 {
			lvl = 2
		} else if c[j] < -0.5 {
			lvl = 0
		}
		var w [3]string
		switch name {
		case "recency":
			w = [3]string{"recent", "moderately recent", "lapsed"}
		case "frequency":
			w = [3]string{"infrequent", "occasional", "frequent"}
		case "monetary":
			w = [3]string{"low spend", "mid spend", "high spend"}
		case "aov":
			w = [3]string{"small baskets", "mid baskets", "large baskets"}
		case "tenure":
			w = [3]string{"new", "established", "long-standing"}
		case "items_per_order":
			w = [3]string{"few items per order", "some items per order", "many items per order"}
		case "categories":
			w = [3]string{"narrow range", "some range", "broad range"}
		case "page_views":
			w = [3]string{"few page views", "some page views", "many page views"}
		case "visits":
			w = [3]string{"few visits", "some visits", "many visits"}
		case "email_opens":
			w = [3]string{"few email opens", "some email opens", "many email opens"}
		case "email_clicks":
			w = [3]string{"few email clicks", "some email clicks", "many email clicks"}
		case "form_submissions":
			w = [3]string{"few form submissions", "some form submissions", "many form submissions"}
		}
		words = append(words, w[lvl])
	}
	return strings.Join(words, ", ")
}

func dist2(a, b []float64) float64 {
	s := 0.0
	for j := range a {
		d := a[j] - b[j]
		s += d * d
	}
	return s
}

// kmeans runs k-means++ seeding and Lloyd iterations.
func kmeans(pts [][]float64, k int, seed uint64, maxIter int) ([][]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, uint64(k)))
	d := len(pts[0])
	centres := make([][]float64, 0, k)
	centres = append(centres, slices.Clone(pts[rng.IntN(len(pts))]))
	dmin := make([]float64, len(pts))
	for i, p := range pts {
		dmin[i] = dist2(p, centres[0])
	}
	for len(centres) < k {
		total := 0.0
		for _, v := range dmin {
			total += v
		}
		pick := 0
		if total > 0 {
			r := rng.Float64() * total
			for i, v := range dmin {
				r -= v
				if r <= 0 {
					pick = i
					break
				}
			}
		} else {
			pick = rng.IntN(len(pts))
		}
		c := slices.Clone(pts[pick])
		centres = append(centres, c)
		for i, p := range pts {
			dmin[i] = min(dmin[i], dist2(p, c))
		}
	}
	assign := make([]int, len(pts))
	for i := range assign {
		assign[i] = -1
	}
	sums := make([][]float64, k)
	for c := range sums {
		sums[c] = make([]float64, d)
	}
	counts := make([]int, k)
	for iter := 0; iter < maxIter; iter++ {
		moved := 0
		for i, p := range pts {
			b := nearest(centres, p)
			if b != assign[i] {
				assign[i] = b
				moved++
			}
		}
		if moved == 0 {
			break
		}
		for c := range sums {
			clear(sums[c])
			counts[c] = 0
		}
		for i, p := range pts {
			c := assign[i]
			counts[c]++
			for j := range p {
				sums[c][j] += p[j]
			}
		}
		for c := range centres {
			if counts[c] == 0 {
				continue // keep an empty centre where it was
			}
			for j := range centres[c] {
				centres[c][j] = sums[c][j] / float64(counts[c])
			}
		}
	}
	return centres, assign
}

func nearest(centres [][]float64, p []float64) int {
	b, bd := 0, math.Inf(1)
	for c, ctr := range centres {
		if dd := dist2(p, ctr); dd < bd {
			b, bd = c, dd
		}
	}
	return b
}

// silhouette is the mean silhouette coefficient (Euclidean distances).
func silhouette(pts [][]float64, assign []int, k int) float64 {
	if len(pts) < 2 {
		return 0
	}
	sums := make([]float64, k)
	counts := make([]int, k)
	for _, c := range assign {
		counts[c]++
	}
	total := 0.0
	for i, p := range pts {
		clear(sums)
		for j, q := range pts {
			if i != j {
				sums[assign[j]] += math.Sqrt(dist2(p, q))
			}
		}
		own := assign[i]
		if counts[own] <= 1 {
			continue // s = 0 for singletons
		}
		a := sums[own] / float64(counts[own]-1)
		b := math.Inf(1)
		for c := range sums {
			if c != own && counts[c] > 0 {
				b = min(b, sums[c]/float64(counts[c]))
			}
		}
		if math.IsInf(b, 1) {
			continue
		}
		if m := max(a, b); m > 0 {
			total += (b - a) / m
		}
	}
	return total / float64(len(pts))
}

func (f *clusterFitted) groups() []groupInfo {
	out := make([]groupInfo, len(f.centres))
	for i := range f.centres {
		out[i] = groupInfo{slug: fmt.Sprintf("c%d", i+1), display: fmt.Sprintf("cluster %d", i+1), description: f.words[i]}
	}
	return out
}

func (f *clusterFitted) exclusive() bool { return true }

func (f *clusterFitted) assign(_ int, c *Customer, ft *Features, _ *scratch) uint32 {
	if ft.Orders == 0 || len(f.centres) == 0 {
		return 0
	}
	var buf [8]float64
	var v []float64
	if len(f.p.Features) > len(buf) {
		v = make([]float64, len(f.p.Features))
	} else {
		v = buf[:len(f.p.Features)]
	}
	f.vector(c, ft, v)
	return 1 << nearest(f.centres, v)
}

func (f *clusterFitted) explain(_ int, cu *Customer, ft *Features, _ *scratch, mask uint32) []string {
	if ft.Orders == 0 {
		return []string{"no purchases, so not clustered"}
	}
	if len(f.centres) == 0 {
		return []string{"too few buyers to cluster"}
	}
	v := make([]float64, len(f.p.Features))
	f.vector(cu, ft, v)
	c := trailing(mask)
	parts := make([]string, len(f.centres))
	for i, ctr := range f.centres {
		parts[i] = fmt.Sprintf("c%d %.3f", i+1, math.Sqrt(dist2(v, ctr)))
	}
	return []string{
		fmt.Sprintf("standardised log features %v = %s", f.p.Features, fmtVec(v)),
		fmt.Sprintf("nearest centre c%d (%s) at %s; distances: %s", c+1, f.words[c], fmtVec(f.centres[c]), strings.Join(parts, ", ")),
		fmt.Sprintf("k=%d chosen by mean silhouette %.3f", len(f.centres), f.sil),
	}
}

func fmtVec(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.3f", x)
	}
	return "[" + strings.Join(s, " ") + "]"
}
