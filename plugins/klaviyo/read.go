package klaviyo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// profile is a profile resource as GET /api/profiles returns it.
type profile struct {
	ID         string `json:"id"`
	Attributes struct {
		Email         string    `json:"email"`
		FirstName     string    `json:"first_name"`
		LastName      string    `json:"last_name"`
		Created       time.Time `json:"created"`
		Updated       time.Time `json:"updated"`
		Subscriptions *struct {
			Email *struct {
				Marketing *struct {
					Consent          string     `json:"consent"`
					ConsentTimestamp *time.Time `json:"consent_timestamp"`
				} `json:"marketing"`
			} `json:"email"`
		} `json:"subscriptions"`
	} `json:"attributes"`
}

type profilePage struct {
	Data  []profile `json:"data"`
	Links struct {
		Next string `json:"next"`
	} `json:"links"`
}

// cursor is where a pull resumes: the sweep's lower bound on updated, the
// links.next URL reached in it, the latest update seen so far (the next
// sweep's start), and the time of the latest engagement event seen.
type cursor struct {
	Since   time.Time `json:"since,omitzero"`
	Next    string    `json:"next,omitempty"`
	Latest  time.Time `json:"latest,omitzero"`
	Engaged time.Time `json:"engaged,omitzero"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, adapter.Permanent(fmt.Errorf("klaviyo: cursor %q is not one this plugin wrote: %w", s, err))
	}
	return c, nil
}

func ref(id string, modified time.Time) domain.ExternalRef {
	return domain.ExternalRef{Platform: Name, ObjectType: domain.ObjectContact, ID: id, LastModified: modified}
}

// change maps a profile to a contact. Its email marketing consent
// (subscriptions.email.marketing.consent) is the contact's email consent:
// SUBSCRIBED granted, UNSUBSCRIBED revoked, NEVER_SUBSCRIBED unknown (no
// decision was ever asked of the person).
func change(pr profile, eng map[string]*engagement) adapter.Change {
	a := pr.Attributes
	r := ref(pr.ID, a.Updated)
	c := &domain.Contact{Ref: r, FirstName: a.FirstName, LastName: a.LastName, CreatedAt: a.Created, UpdatedAt: a.Updated,
		Attributes: map[string]string{}}
	if a.Email != "" {
		c.Emails = []string{a.Email}
	}
	if s := a.Subscriptions; s != nil && s.Email != nil && s.Email.Marketing != nil {
		m := s.Email.Marketing
		c.Attributes["klaviyo_email_consent"] = m.Consent
		switch m.Consent {
		case "SUBSCRIBED":
			c.Consent.Email = domain.ConsentGranted
		case "UNSUBSCRIBED":
			c.Consent.Email = domain.ConsentRevoked
		}
		if m.ConsentTimestamp != nil {
			c.Consent.UpdatedAt = *m.ConsentTimestamp
		}
	}
	if eng != nil {
		e := eng[pr.ID]
		if e == nil {
			e = &engagement{}
		}
		e.put(c.Attributes)
	}
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: r, Contact: c}
}

// Pull implements sdk.Plugin: profiles sorted by update time, a page of
// at most page_size at a time following links.next; a later pull asks
// only for profiles updated after the latest update seen (less a second,
// so that updates in the same second are not lost; they come again,
// which is harmless), and for those with engagement events since the
// last pull.
func (p *Plugin) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	if req.Object != domain.ObjectContact {
		return adapter.Permanent(fmt.Errorf("klaviyo: object %q: %w", req.Object, adapter.ErrUnsupported))
	}
	cur, err := decodeCursor(req.Cursor)
	if err != nil {
		return err
	}
	if req.Full {
		cur = cursor{}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var eng map[string]*engagement
	if p.cfg.Engagement {
		if eng, err = p.engagement(ctx); err != nil {
			return err
		}
	}
	size := p.cfg.PageSize
	if req.PageSize > 0 && req.PageSize < size {
		size = req.PageSize
	}
	size = min(size, maxPageSize)
	next := cur.Next
	if next == "" {
		q := url.Values{"sort": {"updated"}, "page[size]": {strconv.Itoa(size)},
			"additional-fields[profile]": {"subscriptions"}}
		if !cur.Since.IsZero() {
			q.Set("filter", "greater-than(updated,"+cur.Since.UTC().Format(time.RFC3339)+")")
		}
		next = "/api/profiles?" + q.Encode()
	}
	seen := map[string]bool{}
	for {
		var body profilePage
		if err := p.call(ctx, "get_profiles", http.MethodGet, next, nil, &body); err != nil {
			return fmt.Errorf("klaviyo: listing profiles: %w", err)
		}
		page := adapter.Page{}
		for _, pr := range body.Data {
			page.Changes = append(page.Changes, change(pr, eng))
			seen[pr.ID] = true
			if pr.Attributes.Updated.After(cur.Latest) {
				cur.Latest = pr.Attributes.Updated
			}
		}
		next = body.Links.Next
		done := next == ""
		if done {
			if !cur.Since.IsZero() && eng != nil {
				// Profiles whose engagement changed without an update.
				more, err := p.engagedSince(ctx, cur.Engaged, eng, seen)
				if err != nil {
					return err
				}
				page.Changes = append(page.Changes, more...)
			}
			cur = cursor{Since: cur.Latest.Add(-time.Second), Latest: cur.Latest, Engaged: latestEvent(eng, cur.Engaged)}
		} else {
			cur.Next = next
		}
		page.Cursor = cur.encode()
		if len(page.Changes) > 0 || done {
			if err := sink(ctx, page); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}

// engagedSince returns the profiles not in seen with an engagement event
// after since, read by id a hundred at a time.
func (p *Plugin) engagedSince(ctx context.Context, since time.Time, eng map[string]*engagement, seen map[string]bool) ([]adapter.Change, error) {
	var ids []string
	for id, e := range eng {
		if !seen[id] && e.last().After(since) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	var out []adapter.Change
	for len(ids) > 0 {
		n := min(len(ids), maxPageSize)
		chunk := ids[:n]
		ids = ids[n:]
		quoted := make([]string, len(chunk))
		for i, id := range chunk {
			quoted[i] = strconv.Quote(id)
		}
		q := url.Values{"filter": {"any(id,[" + strings.Join(quoted, ",") + "])"}, "page[size]": {strconv.Itoa(maxPageSize)},
			"additional-fields[profile]": {"subscriptions"}}
		var body profilePage
		if err := p.call(ctx, "get_profiles", http.MethodGet, "/api/profiles?"+q.Encode(), nil, &body); err != nil {
			return nil, fmt.Errorf("klaviyo: reading engaged profiles: %w", err)
		}
		for _, pr := range body.Data {
			out = append(out, change(pr, eng))
		}
	}
	return out, nil
}

// Fetch implements sdk.Fetcher: profiles by id; one that no longer exists
// comes back as a delete.
func (p *Plugin) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	if req.Object != domain.ObjectContact {
		return nil, adapter.Permanent(fmt.Errorf("klaviyo: object %q: %w", req.Object, adapter.ErrUnsupported))
	}
	out := make([]adapter.Change, 0, len(req.IDs))
	for _, id := range req.IDs {
		var body struct {
			Data profile `json:"data"`
		}
		err := p.call(ctx, "get_profile", http.MethodGet, "/api/profiles/"+url.PathEscape(id)+"?additional-fields%5Bprofile%5D=subscriptions", nil, &body)
		if status, _ := errorsOf(err); status == http.StatusNotFound {
			out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: ref(id, time.Time{})})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("klaviyo: fetching profile %s: %w", id, err)
		}
		var eng map[string]*engagement
		if p.cfg.Engagement {
			e, err := p.engagementOf(ctx, id)
			if err != nil {
				return nil, err
			}
			eng = map[string]*engagement{id: e}
		}
		out = append(out, change(body.Data, eng))
	}
	return out, nil
}
