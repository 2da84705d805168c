package spec

import (
	"fmt"
	"strings"
)

// unknown is the problem for key k that node n does not know, with the
// nearest known key as a suggestion.
func unknown(n *node, k string) *problem {
	limit := len(k)/3 + 1 // at most a third of the key may differ
	best, bestDist := "", limit+1
	for _, c := range n.keys {
		if d := editDistance(k, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best != "" {
		return &problem{"unknown key", fmt.Sprintf("did you mean %s?", best)}
	}
	if len(n.keys) == 0 {
		return &problem{"unknown key", ""}
	}
	return &problem{"unknown key", "known keys here: " + strings.Join(n.keys, ", ")}
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of two neighbours each cost one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Suggest says which of known an unknown key k was probably meant to be:
// "did you mean X?" for a near miss, else the known keys listed ("" when
// there are none). Hosts use it for the sections they decode themselves.
func Suggest(k string, known []string) string {
	return unknown(&node{keys: known}, k).detail
}
