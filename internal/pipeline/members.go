package pipeline

import (
	"context"
	"strings"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// member is one current membership: the segment and the holdout role.
type member struct {
	segment string
	control bool
}

// memberView is every profile's current memberships as a full plan last
// read them (store.AllMemberships) and the membership change mark taken
// before; the next full plan reads again only the memberships of the
// profiles the store names as changed since. Most profiles share their
// set of memberships with many others, so equal sets share one slice.
type memberView struct {
	mark   int64
	of     map[string][]member
	shared map[string][]member // a set's key → its one slice
}

// currentMemberships returns every profile's current memberships, kept
// up to date from the store's change log; the caller holds p.memberMu
// and does not change what it gets.
func (p *Pipeline) currentMemberships(ctx context.Context) (map[string][]member, error) {
	if v := p.members; v != nil {
		ids, next, complete, err := p.store.MembershipsChangedSince(ctx, v.mark)
		if err != nil {
			return nil, err
		}
		if complete {
			of, err := p.store.MembershipsOf(ctx, ids)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				if ms := of[id]; len(ms) > 0 {
					v.of[id] = v.share(membersOf(ms))
				} else {
					delete(v.of, id)
				}
			}
			v.mark = next
			return v.of, nil
		}
	}
	mark, err := p.store.MembershipMark(ctx)
	if err != nil {
		return nil, err
	}
	v := &memberView{mark: mark, of: map[string][]member{}, shared: map[string][]member{}}
	grouped := map[string][]member{}
	err = p.store.AllMemberships(ctx, func(m domain.Membership) error {
		grouped[m.ProfileID] = append(grouped[m.ProfileID], member{m.Segment, m.Control})
		return nil
	})
	if err != nil {
		p.members = nil
		return nil, err
	}
	for id, ms := range grouped {
		v.of[id] = v.share(sortMembers(ms))
	}
	p.members = v
	return v.of, nil
}

// share returns the one slice kept for a set equal to ms.
func (v *memberView) share(ms []member) []member {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.segment)
		if m.control {
			b.WriteString("\x00c")
		}
		b.WriteByte('\x01')
	}
	key := b.String()
	if s, ok := v.shared[key]; ok {
		return s
	}
	v.shared[key] = ms
	return ms
}

// membersOf converts a profile's memberships, sorted by segment.
func membersOf(ms []domain.Membership) []member {
	out := make([]member, len(ms))
	for i, m := range ms {
		out[i] = member{m.Segment, m.Control}
	}
	return sortMembers(out)
}

func sortMembers(ms []member) []member {
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].segment < ms[j-1].segment; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	return ms
}

// controlIn reports whether the segment is among ms, and its role.
func controlIn(ms []member, segment string) (control, ok bool) {
	for _, m := range ms {
		if m.segment == segment {
			return m.control, true
		}
	}
	return false, false
}
