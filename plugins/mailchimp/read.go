package mailchimp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// member is an audience member as the members endpoints return it.
type member struct {
	ID           string                  `json:"id"`
	EmailAddress string                  `json:"email_address"`
	Status       string                  `json:"status"`
	MergeFields  map[string]any          `json:"merge_fields"`
	LastChanged  time.Time               `json:"last_changed"`
	Tags         []struct{ Name string } `json:"tags"`
}

// cursor is where a pull resumes: the sweep's since_last_changed, the
// offset reached in it, and the latest change seen so far (the next
// sweep's start).
type cursor struct {
	Since  time.Time `json:"since,omitzero"`
	Offset int       `json:"offset,omitempty"`
	Latest time.Time `json:"latest,omitzero"`
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
		return c, adapter.Permanent(fmt.Errorf("mailchimp: cursor %q is not one this plugin wrote: %w", s, err))
	}
	return c, nil
}

func (p *Plugin) ref(id string, modified time.Time) domain.ExternalRef {
	return domain.ExternalRef{Platform: Name, Account: p.cfg.ListID, ObjectType: domain.ObjectContact, ID: id, LastModified: modified}
}

// change maps a member to a contact. Mailchimp's subscription status is
// the contact's email consent.
func (p *Plugin) change(m member) adapter.Change {
	ref := p.ref(m.ID, m.LastChanged)
	c := &domain.Contact{Ref: ref, Emails: []string{m.EmailAddress}, UpdatedAt: m.LastChanged, Attributes: map[string]string{"mailchimp_status": m.Status}}
	if s, ok := m.MergeFields["FNAME"].(string); ok {
		c.FirstName = s
	}
	if s, ok := m.MergeFields["LNAME"].(string); ok {
		c.LastName = s
	}
	switch m.Status {
	case "subscribed":
		c.Consent.Email = domain.ConsentGranted
	case "unsubscribed", "cleaned":
		c.Consent.Email = domain.ConsentRevoked
	}
	return adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref, Contact: c}
}

// Pull implements sdk.Plugin: members sorted by last change, page by page
// with offset and count; a later pull asks only for members changed after
// the latest change seen (less a second, so that changes in the same
// second as it are not lost; they come again, which is harmless).
func (p *Plugin) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	if req.Object != domain.ObjectContact {
		return adapter.Permanent(fmt.Errorf("mailchimp: object %q: %w", req.Object, adapter.ErrUnsupported))
	}
	cur, err := decodeCursor(req.Cursor)
	if err != nil {
		return err
	}
	if req.Full {
		cur = cursor{}
	}
	count := p.cfg.PageSize
	if req.PageSize > 0 && req.PageSize < count {
		count = req.PageSize
	}
	count = min(count, maxCount)
	for {
		q := url.Values{"count": {strconv.Itoa(count)}, "offset": {strconv.Itoa(cur.Offset)},
			"sort_field": {"last_changed"}, "sort_dir": {"ASC"}}
		if !cur.Since.IsZero() {
			q.Set("since_last_changed", cur.Since.UTC().Format(time.RFC3339))
		}
		var body struct {
			Members    []member `json:"members"`
			TotalItems int      `json:"total_items"`
		}
		if err := p.call(ctx, "GET", "/lists/"+url.PathEscape(p.cfg.ListID)+"/members?"+q.Encode(), nil, &body); err != nil {
			return fmt.Errorf("mailchimp: listing members: %w", err)
		}
		page := adapter.Page{}
		for _, m := range body.Members {
			page.Changes = append(page.Changes, p.change(m))
			if m.LastChanged.After(cur.Latest) {
				cur.Latest = m.LastChanged
			}
		}
		cur.Offset += len(body.Members)
		done := len(body.Members) < count || cur.Offset >= body.TotalItems
		if done {
			// The sweep is over: the next starts after the latest change.
			cur = cursor{Since: cur.Latest.Add(-time.Second), Latest: cur.Latest}
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

// Fetch implements sdk.Fetcher: members by subscriber hash; one that no
// longer exists comes back as a delete.
func (p *Plugin) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	if req.Object != domain.ObjectContact {
		return nil, adapter.Permanent(fmt.Errorf("mailchimp: object %q: %w", req.Object, adapter.ErrUnsupported))
	}
	out := make([]adapter.Change, 0, len(req.IDs))
	for _, id := range req.IDs {
		var m member
		err := p.call(ctx, "GET", "/lists/"+url.PathEscape(p.cfg.ListID)+"/members/"+url.PathEscape(id), nil, &m)
		switch {
		case errors.Is(err, errNotFound):
			out = append(out, adapter.Change{Kind: adapter.ChangeDelete, Ref: p.ref(id, time.Time{})})
		case err != nil:
			return nil, fmt.Errorf("mailchimp: fetching member %s: %w", id, err)
		default:
			out = append(out, p.change(m))
		}
	}
	return out, nil
}
