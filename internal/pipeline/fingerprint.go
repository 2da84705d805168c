package pipeline

import (
	"bufio"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// fingerprint hashes what a plan would write, so apply can refuse a plan
// whose data changed since it was shown. It writes each change and item
// in a fixed layout (no reflection, no formatting per field), in an order
// that does not depend on how the plan was built.
func fingerprint(plan *Plan) string {
	h := sha256.New()
	w := bufio.NewWriterSize(h, 64<<10)
	ms := sortedCopy(plan.Memberships, func(a, b store.MembershipChange) int {
		return cmp.Or(strings.Compare(a.ProfileID, b.ProfileID), strings.Compare(a.Segment, b.Segment), cmpBool(a.Entered, b.Entered))
	})
	buf := make([]byte, 0, 512)
	for _, m := range ms {
		buf = append(buf[:0], "m|"...)
		buf = append(buf, m.ProfileID...)
		buf = append(buf, '|')
		buf = append(buf, m.Segment...)
		buf = append(buf, '|')
		buf = strconv.AppendBool(buf, m.Entered)
		buf = append(buf, '|')
		buf = strconv.AppendBool(buf, m.Control)
		buf = append(buf, '\n')
		_, _ = w.Write(buf)
	}
	for _, pp := range plan.Platforms {
		items := sortedCopy(pp.Items, func(a, b adapter.PushItem) int { return strings.Compare(a.ID, b.ID) })
		for _, it := range items {
			buf = append(buf[:0], "w|"...)
			buf = append(buf, pp.Platform...)
			buf = append(buf, '|')
			buf = appendItem(buf, it)
			buf = append(buf, '\n')
			_, _ = w.Write(buf)
		}
		creates := sortedCopy(pp.Creates, func(a, b adapter.CreateItem) int { return strings.Compare(a.ID, b.ID) })
		for _, c := range creates {
			buf = append(buf[:0], "c|"...)
			buf = appendItem(buf, adapter.PushItem{ID: c.ID, Properties: c.Properties})
			buf = strconv.AppendQuote(buf, c.Email)
			buf = append(buf, '\n')
			_, _ = w.Write(buf)
		}
	}
	_ = w.Flush() // a hash takes every write
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// sortedCopy returns xs sorted by cmp: xs itself when it already is (a
// plan is mostly built in order), else a sorted copy.
func sortedCopy[T any](xs []T, cmp func(a, b T) int) []T {
	if slices.IsSortedFunc(xs, cmp) {
		return xs
	}
	xs = slices.Clone(xs)
	slices.SortFunc(xs, cmp)
	return xs
}

// appendItem appends what a push item writes: its id, record, property
// values in key order, and list additions and removals. Each string is
// quoted, so no value can pass for a separator.
func appendItem(buf []byte, it adapter.PushItem) []byte {
	buf = strconv.AppendQuote(buf, it.ID)
	buf = strconv.AppendQuote(buf, it.Ref.Key())
	buf = append(buf, 'p')
	keys := make([]string, 0, len(it.Properties))
	for k := range it.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		buf = strconv.AppendQuote(buf, k)
		buf = strconv.AppendQuote(buf, it.Properties[k])
	}
	buf = append(buf, '+')
	for _, k := range it.Add {
		buf = strconv.AppendQuote(buf, k)
	}
	buf = append(buf, '-')
	for _, k := range it.Remove {
		buf = strconv.AppendQuote(buf, k)
	}
	return buf
}
