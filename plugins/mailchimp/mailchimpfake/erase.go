package mailchimpfake

import (
	"net/http"
	"strings"
)

// deletePermanent serves POST /lists/{list_id}/members/{subscriber_hash}/
// actions/delete-permanent: Mailchimp deletes the member's personal data
// and removes them from the audience for good ("Delete list member" in
// the Marketing API: "This will make it impossible to re-import the list
// member"), answering 204; a member the audience does not have is a 404.
func (f *Fake) deletePermanent(w http.ResponseWriter, hash string) {
	hash = strings.ToLower(hash)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.members {
		if m.ID == hash {
			f.members = append(f.members[:i], f.members[i+1:]...)
			if f.forgotten == nil {
				f.forgotten = map[string]bool{}
			}
			f.forgotten[hash] = true
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	problem(w, http.StatusNotFound, "Resource Not Found", "The requested resource could not be found.")
}

// Forgotten reports whether the member with this subscriber hash was
// deleted permanently.
func (f *Fake) Forgotten(hash string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forgotten[strings.ToLower(hash)]
}
