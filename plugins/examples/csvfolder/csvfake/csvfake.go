// Package csvfake is the fake "platform" of the csvfolder adapter: a
// temporary folder with customers.csv and orders.csv that tests seed and
// inspect, and the conformance-kit harness built on it.
package csvfake

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/sdktest"
)

// Secret is the webhook secret the fake configures.
const Secret = "csvfake-webhook-secret"

// Base is the modification time of the first seeded record; each next
// record is one second later.
var base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// CustomerHeader and OrderHeader are the columns the fake writes.
var (
	customerHeader = []string{"id", "email", "first_name", "last_name", "phone", "city", "country", "created_at", "updated_at", "tier"}
	orderHeader    = []string{"id", "customer_id", "email", "created_at", "updated_at", "status", "currency", "total", "refunded", "channel"}
)

// Folder is one fake spreadsheet folder.
type Folder struct {
	Dir string
	mu  sync.Mutex
	seq int
}

// New creates a folder under t.TempDir with header-only CSV files.
func New(t testing.TB) *Folder {
	f := &Folder{Dir: t.TempDir()}
	for name, head := range map[string][]string{csvfolder.CustomersFile: customerHeader, csvfolder.OrdersFile: orderHeader} {
		if err := appendRows(filepath.Join(f.Dir, name), [][]string{head}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func appendRows(path string, rows [][]string) error {
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	w := csv.NewWriter(fh)
	_ = w.WriteAll(rows)
	if err := w.Error(); err != nil {
		fh.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return fh.Close()
}

// Config is the adapter config for this folder.
func (f *Folder) Config() adapter.Config {
	return adapter.Config{"folder": f.Dir, "webhook_secret": Secret, "currency": "EUR"}
}

// Ref returns the reference of a record in this folder.
func Ref(object, id string) domain.ExternalRef {
	return domain.ExternalRef{Platform: csvfolder.Name, ObjectType: object, ID: id}
}

// SeedCustomers appends n customers, each modified later than the last.
func (f *Folder) SeedCustomers(n int) ([]domain.ExternalRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rows := make([][]string, n)
	refs := make([]domain.ExternalRef, n)
	for i := range rows {
		f.seq++
		id := fmt.Sprintf("C%06d", f.seq)
		at := base.Add(time.Duration(f.seq) * time.Second).Format(time.RFC3339)
		rows[i] = []string{id, fmt.Sprintf("Customer%d@Example.com", f.seq), "First" + id, "Last" + id,
			fmt.Sprintf("+3161234%04d", f.seq%10000), "Utrecht", "nl", at, at, []string{"gold", "silver", ""}[f.seq%3]}
		refs[i] = Ref(domain.ObjectContact, id)
	}
	return refs, appendRows(filepath.Join(f.Dir, csvfolder.CustomersFile), rows)
}

// SeedOrders appends n orders of existing or new customer ids.
func (f *Folder) SeedOrders(n int) ([]domain.ExternalRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rows := make([][]string, n)
	refs := make([]domain.ExternalRef, n)
	for i := range rows {
		f.seq++
		id := fmt.Sprintf("O%06d", f.seq)
		at := base.Add(time.Duration(f.seq) * time.Second).Format(time.RFC3339)
		rows[i] = []string{id, fmt.Sprintf("C%06d", f.seq%97+1), "", at, at, "completed", "EUR",
			fmt.Sprintf("%d.%02d", 10+f.seq%90, f.seq%100), "", "web"}
		refs[i] = Ref(domain.ObjectOrder, id)
	}
	return refs, appendRows(filepath.Join(f.Dir, csvfolder.OrdersFile), rows)
}

// RemoveCustomer deletes a customer's row, so pushes to it fail.
func (f *Folder) RemoveCustomer(id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := filepath.Join(f.Dir, csvfolder.CustomersFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading customers: %w", err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, id+",") {
			keep = append(keep, line)
		}
	}
	return os.WriteFile(path, []byte(strings.Join(keep, "\n")), 0o644)
}

// Webhook returns a signed notification that ref changed.
func (f *Folder) Webhook(ref domain.ExternalRef) adapter.WebhookRequest {
	now := time.Now().UTC()
	body, _ := json.Marshal(csvfolder.Notification{Events: []csvfolder.NotificationEvent{
		{ID: "evt-" + ref.ID, Object: ref.ObjectType, RecordID: ref.ID, OccurredAt: now},
	}})
	return adapter.WebhookRequest{Method: "POST", URL: "http://127.0.0.1/webhooks/csvfolder",
		Headers: csvfolder.Sign(Secret, now, body), Body: body, ReceivedAt: now}
}

// Membership reads back what memberships.csv holds for ref.
func (f *Folder) Membership(ref domain.ExternalRef) (map[string]string, []string, error) {
	return csvfolder.ReadMemberships(filepath.Join(f.Dir, "memberships.csv"), ref.ID)
}

// Fake returns the conformance-kit view of the folder, paging object.
func (f *Folder) Fake(object string) *sdktest.Fake {
	seed := f.SeedCustomers
	if object == domain.ObjectOrder {
		seed = f.SeedOrders
	}
	return &sdktest.Fake{
		Config:       f.Config(),
		Object:       object,
		Seed:         seed,
		SeedPushable: f.SeedCustomers,
		PageSize:     10,
		MaxPageSize:  csvfolder.MaxPageSize,
		LargeCount:   12000,
		MissingID:    "X999999",
		RejectPush:   func(ref domain.ExternalRef) { _ = f.RemoveCustomer(ref.ID) },
		Membership:   f.Membership,
		Webhook:      f.Webhook,
	}
}

// Harness is the kit harness of the csvfolder adapter, in-process.
func Harness(object string) sdktest.Harness {
	return sdktest.Harness{
		Name:  "csvfolder/" + object,
		New:   func(testing.TB) adapter.Adapter { return csvfolder.New() },
		Start: func(t testing.TB) *sdktest.Fake { return New(t).Fake(object) },
	}
}
