package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// fingerprint hashes what a plan would write, so apply can refuse a plan
// whose data changed since it was shown. Each membership change, push
// item and creation is written in a fixed layout (every string length
// prefixed, so no value can pass for a separator) and hashed with
// SHA-256 on its own; the fingerprint is the sum of those hashes, lane by
// lane, so it does not depend on the order the plan was built in and
// needs no sorting (a million-customer plan has some three million
// entries). The sum changes with any entry: two different plans share a
// fingerprint only if their entries' hashes happen to sum alike.
func fingerprint(plan *Plan) string {
	var sum [sha256.Size / 8]uint64
	add := func(entry []byte) {
		d := sha256.Sum256(entry)
		for i := range sum {
			sum[i] += binary.LittleEndian.Uint64(d[8*i:])
		}
	}
	buf := make([]byte, 0, 512)
	for _, m := range plan.Memberships {
		buf = append(buf[:0], 'm')
		buf = appendField(buf, m.ProfileID)
		buf = appendField(buf, m.Segment)
		buf = append(buf, b2byte(m.Entered), b2byte(m.Control))
		add(buf)
	}
	for _, pp := range plan.Platforms {
		for _, it := range pp.Items {
			buf = append(buf[:0], 'w')
			buf = appendField(buf, pp.Platform)
			add(appendItem(buf, it))
		}
		for _, c := range pp.Creates {
			buf = append(buf[:0], 'c')
			buf = appendField(buf, pp.Platform)
			buf = appendItem(buf, adapter.PushItem{ID: c.ID, Properties: c.Properties})
			add(appendField(buf, c.Email))
		}
	}
	out := make([]byte, 0, sha256.Size)
	for _, v := range sum {
		out = binary.LittleEndian.AppendUint64(out, v)
	}
	return hex.EncodeToString(out)[:16]
}

// appendItem appends what a push item writes: its id, record, property
// values in key order, and list additions and removals.
func appendItem(buf []byte, it adapter.PushItem) []byte {
	buf = appendField(buf, it.ID)
	buf = appendField(buf, it.Ref.Platform)
	buf = appendField(buf, it.Ref.Account)
	buf = appendField(buf, it.Ref.ObjectType)
	buf = appendField(buf, it.Ref.ID)
	var small [16]string
	keys := small[:0]
	for k := range it.Properties {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		buf = appendField(buf, k)
		buf = appendField(buf, it.Properties[k])
	}
	buf = binary.AppendUvarint(buf, uint64(len(it.Add)))
	for _, k := range it.Add {
		buf = appendField(buf, k)
	}
	buf = binary.AppendUvarint(buf, uint64(len(it.Remove)))
	for _, k := range it.Remove {
		buf = appendField(buf, k)
	}
	return buf
}

// appendField appends s with its length first.
func appendField(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func b2byte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
