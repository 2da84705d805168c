package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/segconn/connector/core/segment"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Saved inputs. Converting a profile for the engine reads its profile
// row, its links, its orders and their line items; at a million
// customers that is about a hundred times the engine's own work. Every
// profile converted is therefore also encoded (segment.Builder's
// AppendCustomer, then its records and consent) and saved in the store
// (store.SaveInputs), which drops the saved input whenever the profile
// changes. A process that starts with nothing loaded (a restart, a new
// replica) reads the saved inputs in one ordered scan and converts again
// only the profiles without one.
//
// The saved input is what the engine reads of a person: their normalised
// email, the attributes rules look at, the net amount, day, status,
// device, channel, item count and categories of each order, their
// platform records and their email consent. It is personal data and
// goes with the profile's on erasure (the store drops it on any change).

// saveBatch is how many inputs a full load hands the store at a time.
const saveBatch = 5000

// encodeInput converts one profile for the engine and appends its saved
// input to buf.
func (p *Pipeline) encodeInput(b *segment.Builder, po *store.ProfileOrders, buf []byte) (segment.Customer, profileRefs, []byte) {
	c, buf := b.AppendCustomer(buf, &po.Profile, po.Orders)
	buf = binary.AppendUvarint(buf, uint64(len(po.Profile.Refs)))
	for _, r := range po.Profile.Refs {
		for _, s := range []string{r.Platform, r.Account, r.ObjectType, r.ID} {
			buf = binary.AppendUvarint(buf, uint64(len(s)))
			buf = append(buf, s...)
		}
		var at int64
		if !r.LastModified.IsZero() {
			at = r.LastModified.UnixMicro()
		}
		buf = binary.AppendVarint(buf, at)
	}
	opted := OptedOut(&po.Profile)
	if opted {
		buf = append(buf, 1)
	} else {
		buf = append(buf, 0)
	}
	return c, profileRefs{id: po.Profile.ID, refs: p.writable(po.Profile.Refs), optedOut: opted}, buf
}

// decodeInput decodes a saved input of profile id. Records' platforms,
// accounts and types are taken from shared, one copy each.
func (p *Pipeline) decodeInput(b *segment.Builder, id string, data []byte, shared map[string]string) (segment.Customer, profileRefs, error) {
	c, rest, err := b.DecodeCustomer(id, data)
	if err != nil {
		return segment.Customer{}, profileRefs{}, err
	}
	fail := func() (segment.Customer, profileRefs, error) {
		return segment.Customer{}, profileRefs{}, fmt.Errorf("decoding the records of profile %s: the saved input ends early", id)
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)) {
		return fail()
	}
	rest = rest[k:]
	refs := make([]domain.ExternalRef, n)
	for i := range refs {
		var parts [4]string
		for j := range parts {
			l, k := binary.Uvarint(rest)
			if k <= 0 || l > uint64(len(rest)-k) {
				return fail()
			}
			v := rest[k : k+int(l)]
			rest = rest[k+int(l):]
			if j == 3 {
				parts[j] = string(v) // the record's id
				continue
			}
			s, ok := shared[string(v)]
			if !ok {
				s = string(v)
				shared[s] = s
			}
			parts[j] = s
		}
		at, k := binary.Varint(rest)
		if k <= 0 {
			return fail()
		}
		rest = rest[k:]
		refs[i] = domain.ExternalRef{Platform: parts[0], Account: parts[1], ObjectType: parts[2], ID: parts[3]}
		if at != 0 {
			refs[i].LastModified = time.UnixMicro(at).UTC()
		}
	}
	if len(rest) != 1 {
		return fail()
	}
	return c, profileRefs{id: id, refs: p.writable(refs), optedOut: rest[0] == 1}, nil
}

// loadSaved reads every profile's saved input into a new view marked
// mark, and returns the positions of the profiles that have none (their
// customers carry only the id).
func (p *Pipeline) loadSaved(ctx context.Context, mark int64) (*view, []int, error) {
	n, err := p.store.CountProfiles(ctx)
	if err != nil {
		return nil, nil, err
	}
	n += n / 64 // room for profiles added meanwhile
	v := &view{mark: mark, b: segment.NewBuilder(p.currency),
		customers: make([]segment.Customer, 0, n), refs: make([]profileRefs, 0, n)}
	var missing []int
	var broken error
	shared := map[string]string{}
	err = p.store.EachSavedInput(ctx, p.inputVersion, func(id string, data []byte) error {
		if data != nil {
			c, r, err := p.decodeInput(v.b, id, data, shared)
			if err == nil {
				v.customers, v.refs = append(v.customers, c), append(v.refs, r)
				return nil
			}
			if broken == nil {
				broken = err
			}
		}
		missing = append(missing, len(v.customers))
		v.customers, v.refs = append(v.customers, segment.Customer{ID: id}), append(v.refs, profileRefs{id: id})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("loading saved segment inputs: %w", err)
	}
	if broken != nil {
		// Converted again from the profile, and saved over.
		p.log.WarnContext(ctx, "a saved segment input could not be decoded; converting the profile again", "error", broken)
	}
	return v, missing, nil
}

// convertMissing reads and converts the profiles at the positions given,
// saves their inputs, and leaves out those gone since.
func (p *Pipeline) convertMissing(ctx context.Context, v *view, missing []int) error {
	ids := make([]string, len(missing))
	for i, at := range missing {
		ids[i] = v.customers[at].ID
	}
	fresh, err := p.store.LoadProfiles(ctx, ids)
	if err != nil {
		return fmt.Errorf("loading profiles without a saved segment input: %w", err)
	}
	byID := make(map[string]*store.ProfileOrders, len(fresh))
	for i := range fresh {
		byID[fresh[i].Profile.ID] = &fresh[i]
	}
	gone := map[int]bool{}
	saved := make([]store.SavedInput, 0, len(fresh))
	for _, at := range missing {
		po, ok := byID[v.customers[at].ID]
		if !ok {
			gone[at] = true
			continue
		}
		var data []byte
		v.customers[at], v.refs[at], data = p.encodeInput(v.b, po, nil)
		saved = append(saved, store.SavedInput{ProfileID: po.Profile.ID, Data: data})
	}
	if len(gone) > 0 {
		keep := 0
		for i := range v.customers {
			if !gone[i] {
				v.customers[keep], v.refs[keep] = v.customers[i], v.refs[i]
				keep++
			}
		}
		v.customers, v.refs = v.customers[:keep], v.refs[:keep]
	}
	p.save(ctx, v.mark, saved)
	return nil
}

// save hands inputs to the store and reports whether it kept them.
// Saving only spares later loads work, so a failure is logged, not
// returned.
func (p *Pipeline) save(ctx context.Context, mark int64, inputs []store.SavedInput) bool {
	if len(inputs) == 0 {
		return true
	}
	err := p.store.SaveInputs(ctx, p.inputVersion, mark, inputs)
	if err != nil && !errors.Is(err, context.Canceled) {
		p.log.WarnContext(ctx, "saving segment inputs; the next load after a restart converts them again", "inputs", len(inputs), "error", err)
	}
	return err == nil
}

// saver saves the inputs of a full load in batches on a goroutine of its
// own, so that writing them overlaps reading the next profiles.
type saver struct {
	p     *Pipeline
	ctx   context.Context
	mark  int64
	batch []store.SavedInput
	ch    chan []store.SavedInput
	done  chan struct{}
}

func (p *Pipeline) startSaver(ctx context.Context, mark int64) *saver {
	s := &saver{p: p, ctx: ctx, mark: mark, ch: make(chan []store.SavedInput, 2), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		ok := true
		for b := range s.ch {
			ok = ok && p.save(ctx, mark, b) // after a failure, the rest is only drained
		}
	}()
	return s
}

func (s *saver) add(id string, data []byte) {
	s.batch = append(s.batch, store.SavedInput{ProfileID: id, Data: data})
	if len(s.batch) == saveBatch {
		s.ch <- s.batch
		s.batch = nil
	}
}

// close saves what is left and waits for the saving to end.
func (s *saver) close() {
	if len(s.batch) > 0 {
		s.ch <- s.batch
	}
	close(s.ch)
	<-s.done
}
