package adapter

import (
	"context"
	"errors"
	"time"

	"github.com/segconn/connector/plugins/sdk/domain"
)

// Adapter is implemented by every platform connector.
type Adapter interface {
	// Describe returns the adapter's name, version, capabilities and config schema.
	Describe(ctx context.Context) (Descriptor, error)
	// ValidateConfig checks a configuration without network I/O and returns
	// every problem found, each with its config path.
	ValidateConfig(ctx context.Context, cfg Config) ([]Diagnostic, error)
	// Configure applies a valid configuration. It may open connections.
	Configure(ctx context.Context, cfg Config) error
	// Pull reads changes of one object type from cursor onwards and hands
	// them to sink page by page. The cursor in each page is where a later
	// pull resumes once that page is stored. Pull returns when the source is
	// exhausted, ctx ends, or sink returns an error.
	Pull(ctx context.Context, req PullRequest, sink PageSink) error
	// Fetch returns the current state of the given records. A record that no
	// longer exists comes back as a ChangeDelete.
	Fetch(ctx context.Context, req FetchRequest) ([]Change, error)
	// EnsureTargets creates whatever write-back needs (properties, lists,
	// custom fields, campaigns) and returns their platform ids.
	EnsureTargets(ctx context.Context, targets []Target) ([]EnsuredTarget, error)
	// Push writes absolute membership state for a batch of records and
	// returns one result per item, in any order, keyed by PushItem.ID.
	// An error return means the whole call failed and no item is known done.
	Push(ctx context.Context, req PushRequest) ([]PushResult, error)
	// VerifyWebhook authenticates an inbound webhook and parses its events.
	// A bad signature returns an error of kind KindAuth wrapping ErrBadSignature.
	VerifyWebhook(ctx context.Context, req WebhookRequest) (WebhookResult, error)
	// Close releases connections. It is safe after a partial Configure.
	Close(ctx context.Context) error
}

// Config is an adapter's configuration section as decoded from YAML: a tree
// of maps, slices, strings, numbers and booleans (JSON-compatible).
type Config map[string]any

// Descriptor is what an adapter says about itself.
type Descriptor struct {
	Name         string        `json:"name"`
	Version      string        `json:"version"`
	Capabilities Capabilities  `json:"capabilities"`
	ConfigSchema []ConfigField `json:"config_schema"`
}

// Capabilities tells the host what an adapter can do.
type Capabilities struct {
	// Objects lists the object types Pull accepts (domain.Object* values).
	Objects []string `json:"objects"`
	// Incremental lists the objects whose cursors resume incrementally; the
	// rest are full sweeps every time.
	Incremental []string `json:"incremental,omitempty"`
	// Targets lists the write-back target kinds offered (TargetKind values).
	Targets []TargetKind `json:"targets,omitempty"`
	// Webhooks is true when VerifyWebhook is implemented.
	Webhooks bool `json:"webhooks"`
	// MaxPushBatch is the largest PushRequest the adapter accepts.
	MaxPushBatch int `json:"max_push_batch"`
}

// FieldType is the type of a config field.
type FieldType string

// Config field types.
const (
	FieldString   FieldType = "string"
	FieldInt      FieldType = "int"
	FieldNumber   FieldType = "number" // a float, or a percentage such as "80%"
	FieldBool     FieldType = "bool"
	FieldDuration FieldType = "duration"
	FieldURL      FieldType = "url"
	FieldList     FieldType = "list"
	FieldMap      FieldType = "map"
)

// ConfigField describes one key of an adapter's config section.
type ConfigField struct {
	Name        string    `json:"name"` // dotted path inside the section, e.g. "oauth.client_id"
	Type        FieldType `json:"type"`
	Description string    `json:"description"`
	Default     string    `json:"default,omitempty"`
	Enum        []string  `json:"enum,omitempty"`
	Required    bool      `json:"required,omitempty"`
	// Secret fields may also be given as NAME_file and are redacted everywhere.
	Secret bool `json:"secret,omitempty"`
}

// Severity grades a Diagnostic.
type Severity string

// Diagnostic severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one problem found in a configuration.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Path     string   `json:"path"` // dotted config path, e.g. "platforms.hubspot.token"
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
}

func (d Diagnostic) String() string {
	s := d.Path + ": " + d.Summary
	if d.Detail != "" {
		s += " (" + d.Detail + ")"
	}
	return s
}

// PullRequest asks for changes of one object type.
type PullRequest struct {
	Object string `json:"object"` // a domain.Object* value from Capabilities.Objects
	Cursor string `json:"cursor"` // opaque; "" starts from the beginning
	// Full asks for a complete sweep (reconcile) that also reports records
	// missing since the last sweep where the platform allows it.
	Full bool `json:"full,omitempty"`
	// PageSize is a hint; adapters clamp it to the platform's limits.
	PageSize int `json:"page_size,omitempty"`
}

// Page is one batch of changes and the cursor to resume after it.
type Page struct {
	Changes []Change `json:"changes"`
	Cursor  string   `json:"cursor"`
	// Quarantined lists records the adapter could not map, with reasons.
	Quarantined []Rejected `json:"quarantined,omitempty"`
}

// PageSink receives pages. Returning an error stops the pull.
type PageSink func(ctx context.Context, p Page) error

// ChangeKind says whether a record was written or removed.
type ChangeKind string

// Change kinds.
const (
	ChangeUpsert ChangeKind = "upsert"
	ChangeDelete ChangeKind = "delete"
	// ChangeMerge says Ref was merged into MergedInto on the platform.
	ChangeMerge ChangeKind = "merge"
)

// Change is one record written, deleted or merged on a platform. Exactly one
// of Contact, Company, Order is set for an upsert; Ref alone for a delete.
type Change struct {
	Kind       ChangeKind         `json:"kind"`
	Ref        domain.ExternalRef `json:"ref"`
	MergedInto domain.ExternalRef `json:"merged_into,omitzero"`
	Contact    *domain.Contact    `json:"contact,omitempty"`
	Company    *domain.Company    `json:"company,omitempty"`
	Order      *domain.Order      `json:"order,omitempty"`
	// Privacy marks a GDPR deletion: the host must erase, not just unlink.
	Privacy bool `json:"privacy,omitempty"`
}

// Rejected is a source record that could not be mapped.
type Rejected struct {
	Ref    domain.ExternalRef `json:"ref"`
	Reason string             `json:"reason"`
	Raw    []byte             `json:"raw,omitempty"`
}

// FetchRequest asks for the current state of a few records.
type FetchRequest struct {
	Object string   `json:"object"`
	IDs    []string `json:"ids"`
}

// TargetKind is a kind of write-back target.
type TargetKind string

// Target kinds.
const (
	TargetProperty TargetKind = "property" // a field on the record (HubSpot property, Salesforce field, Woo meta)
	TargetList     TargetKind = "list"     // a static list, campaign or tag the record is added to
)

// Target is something write-back needs to exist on the platform.
type Target struct {
	Key  string     `json:"key"`  // host-side stable key, e.g. "segments" or "list:rfm:champions"
	Kind TargetKind `json:"kind"` //
	Name string     `json:"name"` // platform-facing name or label
	// Options lists the allowed values of an enumeration property.
	Options []string `json:"options,omitempty"`
	// Multi is true for a multi-value property (HubSpot checkbox, ';'-joined).
	Multi bool `json:"multi,omitempty"`
	// Type is a property's value type: "" for text or an enumeration
	// (with Options), ValueDate for a date written as YYYY-MM-DD, or
	// ValueNumber for a decimal number such as "19.5".
	Type string `json:"type,omitempty"`
}

// Property value types (Target.Type).
const (
	ValueDate   = "date"
	ValueNumber = "number"
)

// EnsuredTarget reports a target that now exists.
type EnsuredTarget struct {
	Key        string `json:"key"`
	PlatformID string `json:"platform_id"` // list id, campaign id, property or field name
	Created    bool   `json:"created"`
}

// PushRequest writes absolute state for a batch of records.
type PushRequest struct {
	Items []PushItem `json:"items"`
	// Targets maps target keys to the platform ids EnsureTargets returned.
	Targets map[string]string `json:"targets,omitempty"`
}

// PushItem is the desired state of one record. Writing it twice is harmless.
type PushItem struct {
	ID  string             `json:"id"` // idempotency key, echoed in PushResult
	Ref domain.ExternalRef `json:"ref"`
	// Properties are absolute values to set, keyed by target key; "" clears.
	Properties map[string]string `json:"properties,omitempty"`
	// Add and Remove list list-target keys to join or leave.
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// PushStatus is the outcome of one PushItem.
type PushStatus string

// Push outcomes.
const (
	PushOK        PushStatus = "ok"
	PushRetryable PushStatus = "retryable"
	PushPermanent PushStatus = "permanent"
)

// PushResult is the outcome of one PushItem.
type PushResult struct {
	ID         string        `json:"id"`
	Status     PushStatus    `json:"status"`
	Reason     string        `json:"reason,omitempty"`
	RetryAfter time.Duration `json:"retry_after,omitempty"`
}

// WebhookRequest is an inbound HTTP request as the host received it.
type WebhookRequest struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"` // absolute URL as the platform called it (HubSpot v3 signs it)
	Headers map[string][]string `json:"headers"`
	Body    []byte              `json:"body"`
	// ReceivedAt is the host's clock at receipt, for timestamp windows.
	ReceivedAt time.Time `json:"received_at"`
}

// WebhookEvent is one change a webhook announced.
type WebhookEvent struct {
	ID         string             `json:"id"` // the platform's event id, for dedup
	Kind       ChangeKind         `json:"kind"`
	Ref        domain.ExternalRef `json:"ref"`
	MergedInto domain.ExternalRef `json:"merged_into,omitzero"`
	Privacy    bool               `json:"privacy,omitempty"`
	OccurredAt time.Time          `json:"occurred_at,omitzero"`
	// Record is set when the webhook carried the full record (WooCommerce,
	// Salesforce Outbound Messages), so no fetch is needed.
	Record *Change `json:"record,omitempty"`
	// Property and Value are set when the event announces one property's
	// new value (a HubSpot propertyChange): the host recognises the echo
	// of a value it wrote itself and spends no fetch on it.
	Property string `json:"property,omitempty"`
	Value    string `json:"value,omitempty"`
}

// WebhookResult is what a verified webhook carried and how to answer it.
type WebhookResult struct {
	Events []WebhookEvent `json:"events"`
	// Status, ContentType and Body are the response the platform expects
	// (Salesforce wants a SOAP Ack; WooCommerce's ping wants exactly 200).
	// Zero Status means 200 with an empty body.
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

// CallEstimator is implemented by adapters that can say in advance how
// many API requests a Push will make, so a plan can show its cost and
// apply can be held to it. It assumes every target exists and every
// request succeeds. Adapters without it get a generic estimate; it is not
// carried over the plugin protocol.
type CallEstimator interface {
	EstimatePushCalls(req PushRequest) int
}

// WritePacing is how an adapter asks the daemon to pace its live
// write-back (the changes webhooks cause, one record at a time).
type WritePacing struct {
	// PropertyEvery is the least time between two pushes of property
	// changes, so that they leave the rest of the rate budget to
	// membership writes and pulls.
	PropertyEvery time.Duration
	// MembershipEvery is how long membership changes (Add and Remove) may
	// be held so that the changes of many records share each list's call.
	MembershipEvery time.Duration
	// MembershipCallEvery is the least time per call of membership
	// writing: a round that made n calls waits n times this before the
	// next, so membership writes keep to their share of the budget.
	MembershipCallEvery time.Duration
}

// WritePacer is implemented by adapters that want live write-back paced.
// With MembershipEvery set (platforms whose membership writes cost one call
// per list, so that writing them record by record would spend the rate
// budget many times over), the daemon writes property changes at once (at
// most every PropertyEvery) and each list's membership changes together
// every MembershipEvery, or less often when their calls need it
// (MembershipCallEvery). With only PropertyEvery set, it writes whole
// rounds at most that often, each claimed just before it is sent. Adapters
// without it get rounds written back to back as soon as possible. Plugins
// give it over protocol 1.1 (the Hints call).
type WritePacer interface {
	WritePacing() WritePacing
}

// HTTPObserver hears of every HTTP request an adapter sends to its
// platform, for the daemon's metrics. Its methods are called concurrently
// and must return quickly.
type HTTPObserver interface {
	// HTTPRequest reports one attempt: its method, the status it got (0
	// when no answer came) and how long it took.
	HTTPRequest(method string, status int, took time.Duration)
	// RateWait reports time an attempt waited for the platform's rate
	// budget before it was sent.
	RateWait(d time.Duration)
}

// Observable is implemented by adapters that report their HTTP requests.
// The daemon calls ObserveHTTP once, before Configure. Plugins report
// over protocol 1.1 (the WatchHTTP stream).
type Observable interface {
	ObserveHTTP(HTTPObserver)
}

// Quota is a platform's daily API request budget as an adapter knows it:
// from the platform's own response headers once it has seen them, else
// from its configuration.
type Quota struct {
	Limit     int // requests per day; 0 when unknown or unlimited
	Remaining int // left now, as the platform last reported; -1 when unknown
}

// QuotaReporter is implemented by adapters whose platform has a daily
// request budget, so plans can show each write-back's share of it.
// Plugins report it over protocol 1.1 (the Hints call).
type QuotaReporter interface {
	DailyQuota() Quota
}

// Eraser is implemented by adapters that can delete (or anonymise) a
// person's record on their platform for a privacy erasure (GDPR Art. 17,
// CCPA deletion). It is optional: the host records a platform whose
// adapter lacks it as unable to erase.
type Eraser interface {
	// Erase permanently deletes or anonymises one contact record. It is
	// idempotent: a record the platform no longer has returns
	// ErrRecordGone, which the host counts as confirmed. Other failures
	// are typed like any adapter error; the host retries them.
	Erase(ctx context.Context, ref domain.ExternalRef) (ErasureOutcome, error)
}

// ErasureOutcome says what the platform did with an erased record.
type ErasureOutcome string

// Erasure outcomes.
const (
	ErasureDeleted    ErasureOutcome = "deleted"    // the record is gone for good
	ErasureAnonymised ErasureOutcome = "anonymised" // the record stays without personal data
)

// ErrRecordGone is returned by Eraser.Erase for a record the platform no
// longer has: nothing is left to erase.
var ErrRecordGone = errors.New("the platform no longer has the record")

// WebhookSubscription is one of the platform's webhook subscriptions that
// deliver to this connector, as a WebhookWatcher sees it.
type WebhookSubscription struct {
	ID     string `json:"id"`
	Topic  string `json:"topic"`  // e.g. "order.created", "contact.propertyChange"
	Status string `json:"status"` // the platform's word: active, paused, disabled, inactive…
}

// WebhookHealth is what a WebhookWatcher found: the subscriptions that do
// not deliver, the topics no subscription delivers to this connector, and
// what it repaired when allowed to.
type WebhookHealth struct {
	// Inactive are subscriptions that exist but do not deliver.
	Inactive []WebhookSubscription `json:"inactive,omitempty"`
	// Missing are topics no subscription delivers to this connector.
	Missing []string `json:"missing,omitempty"`
	// Reenabled and Created are subscriptions the watcher repaired
	// (only when the configuration lets it manage webhooks).
	Reenabled []WebhookSubscription `json:"reenabled,omitempty"`
	Created   []WebhookSubscription `json:"created,omitempty"`
	// Active counts the subscriptions that deliver.
	Active int `json:"active"`
}

// Healthy reports whether every topic has a subscription that delivers.
func (h WebhookHealth) Healthy() bool { return len(h.Inactive) == 0 && len(h.Missing) == 0 }

// WebhookWatcher is implemented by adapters that can see the platform's
// webhook subscriptions: a platform that disables a subscription after
// failed deliveries stops sending events without telling anyone, so the
// host watches. WatchWebhooks only reads unless the adapter's
// configuration lets it manage webhooks; then it also re-enables or
// recreates what it found broken. ok is false when the adapter cannot
// see subscriptions with its configuration (credentials it lacks).
type WebhookWatcher interface {
	WatchWebhooks(ctx context.Context) (h WebhookHealth, ok bool, err error)
}
