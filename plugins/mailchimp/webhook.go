package mailchimp

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// firedAtLayout is how audience webhooks give fired_at, in UTC.
const firedAtLayout = "2006-01-02 15:04:05"

// VerifyWebhook implements sdk.WebhookVerifier for audience webhooks.
// Mailchimp signs nothing: the callback URL carries the configured
// webhook_secret as its secret query parameter, compared in constant
// time. Mailchimp checks a new webhook's URL with a GET, answered 200.
// subscribe, unsubscribe, profile and cleaned announce a member whose
// state (and so its email consent) changed; an unsubscribe whose action is
// delete announces a deletion; upemail announces the old address merged
// into the new one; campaign events carry no member.
func (p *Plugin) VerifyWebhook(_ context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	if p.cfg.WebhookSecret == "" {
		return adapter.WebhookResult{}, adapter.Auth(fmt.Errorf("mailchimp webhook: no webhook_secret configured: %w", adapter.ErrBadSignature))
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return adapter.WebhookResult{}, adapter.Auth(fmt.Errorf("mailchimp webhook: URL %q: %w", req.URL, adapter.ErrBadSignature))
	}
	if subtle.ConstantTimeCompare([]byte(u.Query().Get("secret")), []byte(p.cfg.WebhookSecret)) != 1 {
		return adapter.WebhookResult{}, adapter.Auth(fmt.Errorf("mailchimp webhook: wrong or missing secret in the callback URL: %w", adapter.ErrBadSignature))
	}
	if req.Method == http.MethodGet {
		return adapter.WebhookResult{}, nil // Mailchimp's check of a new webhook URL
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("mailchimp webhook: body is not form-encoded: %w", err))
	}
	typ := form.Get("type")
	fired, _ := time.Parse(firedAtLayout, form.Get("fired_at"))
	ev := adapter.WebhookEvent{Kind: adapter.ChangeUpsert, OccurredAt: fired}
	switch typ {
	case "subscribe", "unsubscribe", "profile", "cleaned":
		email := form.Get("data[email]")
		if email == "" {
			return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("mailchimp webhook %s: data[email] is missing", typ))
		}
		ev.Ref = p.ref(SubscriberHash(email), fired)
		if typ == "unsubscribe" && form.Get("data[action]") == "delete" {
			ev.Kind = adapter.ChangeDelete
		}
	case "upemail":
		oldEmail, newEmail := form.Get("data[old_email]"), form.Get("data[new_email]")
		if oldEmail == "" || newEmail == "" {
			return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("mailchimp webhook upemail: data[old_email] and data[new_email] are required"))
		}
		ev.Kind = adapter.ChangeMerge
		ev.Ref = p.ref(SubscriberHash(oldEmail), fired)
		ev.MergedInto = p.ref(SubscriberHash(newEmail), fired)
	case "campaign":
		return adapter.WebhookResult{}, nil
	default:
		return adapter.WebhookResult{}, adapter.Permanent(fmt.Errorf("mailchimp webhook: unknown type %q", typ))
	}
	ev.ID = typ + ":" + form.Get("fired_at") + ":" + ev.Ref.ID
	return adapter.WebhookResult{Events: []adapter.WebhookEvent{ev}}, nil
}
