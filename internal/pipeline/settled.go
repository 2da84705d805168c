package pipeline

import (
	"context"
	"hash/maphash"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// settledRecords are the records of one platform a plan found holding
// exactly the state it wanted (what the connector owns there equals the
// desired state, nothing queued), each with a hash of that state, and the
// ownership change mark (store.OwnershipMark) taken before the plan read
// any ownership. The next plan skips reading a record's ownership when
// its desired state hashes the same and the store names no ownership
// written on it since: delta is a function of the two alone, so the
// record still needs nothing.
//
// Records are named by recordID, 128 bits of seeded hash of their key,
// not by the key: at a million customers the maps hold some 2.5 million
// records, and keys would be as many strings allocated each plan and
// scanned by every collection; ids hold no pointers. Two records whose
// ids collide (a chance of about 2^-128 per pair) would share one entry.
type settledRecords struct {
	mark int64
	seed maphash.Seed
	// ids seeds recordID's two halves (the pipeline's, so that a plan's
	// ids are the next plan's).
	ids [2]maphash.Seed
	// prev is the last plan's settled records (read only here); stale are
	// those whose ownership was written since; next is this plan's.
	prev  map[recordID]uint64
	stale map[recordID]bool
	next  map[recordID]uint64
}

// recordID names a record in settledRecords.
type recordID [2]uint64

// id returns the record id of ref, a hash of ref.Key() computed without
// building it.
func (s *settledRecords) id(ref domain.ExternalRef) recordID {
	var out recordID
	var h maphash.Hash
	for i := range out {
		h.SetSeed(s.ids[i])
		h.WriteString(ref.Platform)
		h.WriteByte('/')
		h.WriteString(ref.Account)
		h.WriteByte('/')
		h.WriteString(ref.ObjectType)
		h.WriteByte('/')
		h.WriteString(ref.ID)
		out[i] = h.Sum64()
	}
	return out
}

// keyID is id for a record given by its key.
func (s *settledRecords) keyID(key string) recordID {
	return recordID{maphash.String(s.ids[0], key), maphash.String(s.ids[1], key)}
}

// settledSince returns the last plan's settled records of the platform
// with those whose ownership changed since marked stale, or none when
// there was no last plan or its changes are no longer all known.
func (p *Pipeline) settledSince(ctx context.Context, platform string) (*settledRecords, error) {
	p.settleMu.Lock()
	last := p.settled[platform]
	p.settleMu.Unlock()
	s := &settledRecords{seed: p.hashSeed, ids: p.recordSeeds, next: map[recordID]uint64{}}
	if last != nil {
		s.next = make(map[recordID]uint64, len(last.next))
	}
	if last != nil {
		keys, next, complete, err := p.store.OwnershipChangedSince(ctx, last.mark)
		if err != nil {
			return nil, err
		}
		if complete {
			s.mark, s.prev, s.stale = next, last.next, make(map[recordID]bool, len(keys))
			for _, k := range keys {
				s.stale[s.keyID(k)] = true
			}
			return s, nil
		}
	}
	mark, err := p.store.OwnershipMark(ctx)
	if err != nil {
		return nil, err
	}
	s.mark = mark
	return s, nil
}

// stillHolds reports whether the record was settled last time with the
// state hashed h and its ownership has not changed since; it then stays
// settled.
func (s *settledRecords) stillHolds(id recordID, h uint64) bool {
	if s.prev == nil || s.stale[id] {
		return false
	}
	if was, ok := s.prev[id]; ok && was == h {
		s.next[id] = h
		return true
	}
	return false
}

// settle records that the record holds the state hashed h.
func (s *settledRecords) settle(id recordID, h uint64) { s.next[id] = h }

// hash is a hash of a desired state that does not depend on map order:
// the sum of its entries' hashes. Two different states hashing the same
// (a chance of about 2^-64 per record) would leave that record's change
// unwritten until its state changes again.
func (s *settledRecords) hash(st state) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	var sum uint64
	for k, v := range st.Props {
		sum += s.propHash(k, v)
	}
	for k, in := range st.Lists {
		h.Reset()
		h.WriteByte('l')
		h.WriteString(k)
		if in {
			h.WriteByte(1)
		}
		sum += h.Sum64()
	}
	return sum
}

// propHash is the hash of one property entry in hash's sum.
func (s *settledRecords) propHash(k, v string) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteByte('p')
	h.WriteString(k)
	h.WriteByte(0)
	h.WriteString(v)
	return h.Sum64()
}

// keepSettled keeps the plan's settled records for the next plan.
func (p *Pipeline) keepSettled(platform string, s *settledRecords) {
	kept := &settledRecords{mark: s.mark, ids: s.ids, next: s.next}
	p.settleMu.Lock()
	p.settled[platform] = kept
	p.settleMu.Unlock()
}
