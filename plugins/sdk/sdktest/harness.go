// Package sdktest is the conformance kit for adapters: one suite that every
// adapter, built-in or plugin, runs against itself and a fake of its
// platform, plus the transports to run it through: directly in-process,
// through the real gRPC protocol in memory (go-plugin's
// TestPluginGRPCConn), and as a real plugin subprocess.
//
// An adapter package supplies a Harness: a constructor and a way to start
// a fresh fake with hooks to seed records and inject faults. Hooks left nil
// skip the tests that need them, with a message saying so.
package sdktest

import (
	"testing"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// Harness is what an adapter package gives RunConformance.
type Harness struct {
	// Name labels the subtests, e.g. "hubspot/grpc".
	Name string
	// New returns a fresh, unconfigured adapter. Transports wrap it.
	New func(t testing.TB) adapter.Adapter
	// Start starts a fresh fake platform, stopped by t.Cleanup. It holds no
	// records of Fake.Object until Seed is called.
	Start func(t testing.TB) *Fake
}

// Fake is one running fake platform and its controls.
type Fake struct {
	// Config configures the adapter against this fake.
	Config adapter.Config
	// Object is the object type the paging tests pull; default contact.
	Object string
	// Seed adds n records of Object, each with a later modification time
	// than any before, and returns their references.
	Seed func(n int) ([]domain.ExternalRef, error)
	// SeedPushable adds n records that write-back can target (contacts,
	// usually) and returns their references; nil means Seed.
	SeedPushable func(n int) ([]domain.ExternalRef, error)
	// PageSize is the page size the paging tests ask for; default 10. Use
	// the platform's smallest page when it ignores smaller hints.
	PageSize int
	// MaxPageSize is the largest page the platform serves; the large-page
	// test asks for more and expects no page above it (0: unchecked).
	MaxPageSize int
	// LargeCount is how many records the large-page test seeds; default 1200.
	LargeCount int
	// MissingID is an id of Object that does not exist, well-formed for
	// the platform; "" skips the Fetch-of-a-missing-record check.
	MissingID string
	// RateLimit makes the platform answer the next n requests with its
	// rate-limit response (429 and Retry-After); nil skips that test.
	RateLimit func(n int)
	// RejectPush makes writes to ref fail permanently at the platform;
	// nil skips the partial-failure test.
	RejectPush func(ref domain.ExternalRef)
	// Membership reads back what the platform holds for ref after pushes:
	// property values by platform id and list platform ids. nil skips the
	// read-back checks of the push tests.
	Membership func(ref domain.ExternalRef) (props map[string]string, lists []string, err error)
	// Webhook returns a correctly signed webhook announcing ref; nil skips
	// the webhook tests.
	Webhook func(ref domain.ExternalRef) adapter.WebhookRequest
	// UnsignedBody says the platform signs no webhook bodies (a secret in
	// the callback URL authenticates them instead, as Mailchimp's do), so
	// the tampered-body check does not apply.
	UnsignedBody bool
	// ForgedWebhook returns a webhook announcing ref as someone without
	// the secret would send it; it must fail with KindAuth. nil skips that
	// check.
	ForgedWebhook func(ref domain.ExternalRef) adapter.WebhookRequest
}

func (f *Fake) object() string {
	if f.Object == "" {
		return domain.ObjectContact
	}
	return f.Object
}

func (f *Fake) pageSize() int {
	if f.PageSize <= 0 {
		return 10
	}
	return f.PageSize
}

func (f *Fake) largeCount() int {
	if f.LargeCount <= 0 {
		return 1200
	}
	return f.LargeCount
}
