package hubspotfake

import (
	"net/http"
	"strconv"
	"time"
)

// Subscription is one of the app's webhook subscriptions, as the webhooks
// API v3 renders it (SubscriptionResponse in HubSpot's webhooks spec:
// id, eventType, active, createdAt, updatedAt).
type Subscription struct {
	ID        int64     `json:"id,string"` // a string in the spec
	EventType string    `json:"eventType"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// AddSubscription subscribes the app to eventType (e.g.
// "contact.propertyChange") and returns the subscription's id.
func (f *Fake) AddSubscription(eventType string, active bool) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextSub++
	now := f.opts.Now().UTC()
	f.subs = append(f.subs, &Subscription{ID: f.nextSub, EventType: eventType, Active: active, CreatedAt: now, UpdatedAt: now})
	return f.nextSub
}

// SetSubscriptionActive pauses (false) or resumes a subscription, as the
// app's developer does in the app settings or with PATCH.
func (f *Fake) SetSubscriptionActive(id int64, active bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.subs {
		if s.ID == id {
			s.Active, s.UpdatedAt = active, f.opts.Now().UTC()
		}
	}
}

// handleSubscriptions serves GET /webhooks/v3/{appId}/subscriptions
// (SubscriptionListResponse: {"results": [...]}, active and paused
// alike). The API authenticates with the developer account's API key in
// the hapikey query parameter (securityScheme developer_hapikey); a
// wrong key is 401, another app's id 404.
func (f *Fake) handleSubscriptions(w http.ResponseWriter, r *http.Request) {
	if f.opts.DeveloperAPIKey == "" || r.URL.Query().Get("hapikey") != f.opts.DeveloperAPIKey {
		writeError(w, http.StatusUnauthorized, "INVALID_AUTHENTICATION", "The API key provided is invalid.")
		return
	}
	if r.PathValue("appId") != strconv.FormatInt(f.opts.AppID, 10) {
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "App not found.")
		return
	}
	f.mu.Lock()
	out := make([]Subscription, 0, len(f.subs))
	for _, s := range f.subs {
		out = append(out, *s)
	}
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"results": out})
}
