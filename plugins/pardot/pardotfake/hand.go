package pardotfake

import "fmt"

// SetByHand sets custom field fieldID of prospect id to value, as a
// marketer editing the prospect in Account Engagement would, creating the
// field (type Text) first when it does not exist; the prospect's
// updatedAt moves on.
func (f *Fake) SetByHand(id int, fieldID, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.prospects[id]
	if p == nil {
		return fmt.Errorf("pardotfake: no prospect %d", id)
	}
	if f.fields[fieldID] == nil {
		f.nextID++
		f.fields[fieldID] = &CustomField{ID: f.nextID, Name: fieldID, FieldID: fieldID, Type: "Text"}
	}
	p.Custom[fieldID] = value
	p.UpdatedAt = f.tick()
	return nil
}

// JoinByHand puts prospect id on list listID, as a marketer adding them
// in Account Engagement would.
func (f *Fake) JoinByHand(id, listID int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.prospects[id] == nil || f.lists[listID] == nil {
		return fmt.Errorf("pardotfake: no prospect %d or no list %d", id, listID)
	}
	for _, m := range f.members {
		if m.ListID == listID && m.ProspectID == id {
			return fmt.Errorf("pardotfake: prospect %d is already on list %d", id, listID)
		}
	}
	f.nextID++
	f.members[f.nextID] = &Membership{ID: f.nextID, ListID: listID, ProspectID: id}
	return nil
}
