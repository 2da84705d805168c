package csvfolder

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// File names inside the folder.
const (
	CustomersFile = "customers.csv"
	OrdersFile    = "orders.csv"
)

// row is one parsed record with its ordering key.
type row struct {
	id      string
	updated time.Time
	change  adapter.Change
	reject  *adapter.Rejected
}

func (r *row) after(cur cursor) bool {
	if !r.updated.Equal(cur.updated) {
		return r.updated.After(cur.updated)
	}
	return r.id > cur.id
}

// cursor is the (updated_at, id) of the last row delivered.
type cursor struct {
	updated time.Time
	id      string
}

func (c cursor) String() string {
	return c.updated.UTC().Format(time.RFC3339Nano) + "|" + c.id
}

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	ts, id, ok := strings.Cut(s, "|")
	if !ok {
		return cursor{}, fmt.Errorf("cursor %q has no '|'", s)
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return cursor{}, fmt.Errorf("parsing cursor %q: %w", s, err)
	}
	return cursor{updated: t, id: id}, nil
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}

func parseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (want RFC 3339 or YYYY-MM-DD[ hh:mm[:ss]])", s)
}

// table is a CSV file with a header, read whole.
type table struct {
	path   string
	header []string
	index  map[string]int
	rows   [][]string
	lines  []int
}

// readTable reads path. A missing file is an empty table.
func readTable(path string) (*table, error) {
	t := &table{path: path, index: map[string]int{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	head, err := r.Read()
	if err == io.EOF {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading header of %s: %w", path, err)
	}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		t.header = append(t.header, h)
		if _, dup := t.index[h]; !dup {
			t.index[h] = i
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		t.rows = append(t.rows, rec)
		t.lines = append(t.lines, line)
	}
	return t, nil
}

func (t *table) get(rec []string, col string) string {
	i, ok := t.index[col]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// rowError names the file, line and column of a bad cell.
func (t *table) rowError(line int, col, msg string) string {
	return fmt.Sprintf("%s line %d column %s: %s", filepath.Base(t.path), line, col, msg)
}

var contactColumns = map[string]bool{
	"id": true, "email": true, "emails": true, "phone": true, "first_name": true, "last_name": true, "gender": true,
	"birth_date": true, "company": true, "line1": true, "line2": true, "city": true, "region": true,
	"postal_code": true, "country": true, "lifecycle_stage": true, "email_consent": true,
	"created_at": true, "updated_at": true,
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (a *Adapter) ref(object, id string) domain.ExternalRef {
	return domain.ExternalRef{Platform: a.name, Account: a.cfg.Account, ObjectType: object, ID: id}
}

// times parses created_at and updated_at; updated defaults to created.
func (t *table) times(rec []string, line int) (created, updated time.Time, problem string) {
	var err error
	if s := t.get(rec, "created_at"); s != "" {
		if created, err = parseTime(s); err != nil {
			return created, updated, t.rowError(line, "created_at", err.Error())
		}
	}
	updated = created
	if s := t.get(rec, "updated_at"); s != "" {
		if updated, err = parseTime(s); err != nil {
			return created, updated, t.rowError(line, "updated_at", err.Error())
		}
	}
	return created, updated, ""
}

func (a *Adapter) contacts(t *table) []row {
	out := make([]row, 0, len(t.rows))
	for i, rec := range t.rows {
		line := t.lines[i]
		id := t.get(rec, "id")
		r := row{id: id}
		ref := a.ref(domain.ObjectContact, id)
		created, updated, problem := t.times(rec, line)
		if id == "" {
			problem = t.rowError(line, "id", "is empty")
		}
		if problem != "" {
			r.reject = &adapter.Rejected{Ref: ref, Reason: problem, Raw: []byte(strings.Join(rec, ","))}
			r.updated = updated
			out = append(out, r)
			continue
		}
		ref.LastModified = updated
		c := &domain.Contact{
			Ref: ref, FirstName: t.get(rec, "first_name"), LastName: t.get(rec, "last_name"),
			Gender: t.get(rec, "gender"), BirthDate: t.get(rec, "birth_date"),
			LifecycleStage: strings.ToLower(t.get(rec, "lifecycle_stage")),
			CreatedAt:      created, UpdatedAt: updated,
			Address: domain.Address{Line1: t.get(rec, "line1"), Line2: t.get(rec, "line2"), City: t.get(rec, "city"),
				Region: t.get(rec, "region"), PostalCode: t.get(rec, "postal_code"), Country: strings.ToUpper(t.get(rec, "country"))},
		}
		for _, e := range append(splitList(t.get(rec, "email")), splitList(t.get(rec, "emails"))...) {
			if n := domain.NormalizeEmail(e); n != "" {
				c.Emails = append(c.Emails, n)
			}
		}
		c.Phones = splitList(t.get(rec, "phone"))
		if name := t.get(rec, "company"); name != "" {
			c.Company = &domain.Company{Name: name}
		}
		switch v := strings.ToLower(t.get(rec, "email_consent")); v {
		case "yes", "true", "granted", "1":
			c.Consent.Email = domain.ConsentGranted
		case "no", "false", "denied", "0":
			c.Consent.Email = domain.ConsentDenied
		}
		for j, h := range t.header {
			if !contactColumns[h] && j < len(rec) && strings.TrimSpace(rec[j]) != "" {
				if c.Attributes == nil {
					c.Attributes = map[string]string{}
				}
				c.Attributes[h] = strings.TrimSpace(rec[j])
			}
		}
		r.updated = updated
		r.change = adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref, Contact: c}
		out = append(out, r)
	}
	return out
}

var statuses = map[string]domain.OrderStatus{
	"pending": domain.StatusPending, "processing": domain.StatusProcessing, "paid": domain.StatusProcessing,
	"completed": domain.StatusCompleted, "complete": domain.StatusCompleted, "shipped": domain.StatusCompleted,
	"cancelled": domain.StatusCancelled, "canceled": domain.StatusCancelled, "refunded": domain.StatusRefunded,
	"failed": domain.StatusFailed, "on_hold": domain.StatusOnHold, "on-hold": domain.StatusOnHold,
}

func (a *Adapter) orders(t *table) []row {
	out := make([]row, 0, len(t.rows))
	for i, rec := range t.rows {
		line := t.lines[i]
		id := t.get(rec, "id")
		r := row{id: id}
		ref := a.ref(domain.ObjectOrder, id)
		created, updated, problem := t.times(rec, line)
		r.updated = updated
		cur := strings.ToUpper(t.get(rec, "currency"))
		if cur == "" {
			cur = a.cfg.Currency
		}
		var total, refunded domain.Money
		var err error
		raw := t.get(rec, "status")
		status, known := statuses[strings.ToLower(raw)]
		if raw == "" {
			status, known = domain.StatusCompleted, true
		}
		switch {
		case problem != "":
		case id == "":
			problem = t.rowError(line, "id", "is empty")
		case created.IsZero():
			problem = t.rowError(line, "created_at", "is empty")
		case !known:
			problem = t.rowError(line, "status", fmt.Sprintf("%q is not an order status", raw))
		}
		if problem == "" {
			if total, err = domain.ParseMoney(t.get(rec, "total"), cur); err != nil {
				problem = t.rowError(line, "total", err.Error())
			}
		}
		if s := t.get(rec, "refunded"); problem == "" && s != "" {
			if refunded, err = domain.ParseMoney(s, cur); err != nil {
				problem = t.rowError(line, "refunded", err.Error())
			}
		}
		if problem != "" {
			r.reject = &adapter.Rejected{Ref: ref, Reason: problem, Raw: []byte(strings.Join(rec, ","))}
			out = append(out, r)
			continue
		}
		ref.LastModified = updated
		o := &domain.Order{
			Ref: ref, BillingEmail: domain.NormalizeEmail(t.get(rec, "email")), CreatedAt: created, UpdatedAt: updated,
			Status: status, RawStatus: raw, Currency: cur, Total: total, Refunded: refunded,
			Channel: t.get(rec, "channel"), Device: t.get(rec, "device"),
		}
		if cid := t.get(rec, "customer_id"); cid != "" {
			o.CustomerRef = a.ref(domain.ObjectContact, cid)
		}
		if sku := t.get(rec, "sku"); sku != "" {
			q, qerr := strconv.ParseInt(t.get(rec, "quantity"), 10, 64)
			if qerr != nil || q <= 0 {
				q = 1
			}
			o.Items = []domain.LineItem{{SKU: sku, Name: t.get(rec, "product"), Category: t.get(rec, "category"), Quantity: q}}
		}
		r.change = adapter.Change{Kind: adapter.ChangeUpsert, Ref: ref, Order: o}
		out = append(out, r)
	}
	return out
}

// load reads and parses the file of object, sorted by (updated, id).
func (a *Adapter) load(object string) ([]row, error) {
	var (
		file  string
		parse func(*table) []row
	)
	switch object {
	case domain.ObjectContact:
		file, parse = CustomersFile, a.contacts
	case domain.ObjectOrder:
		file, parse = OrdersFile, a.orders
	default:
		return nil, adapter.Permanent(fmt.Errorf("object %q: %w", object, adapter.ErrUnsupported))
	}
	t, err := readTable(filepath.Join(a.cfg.Folder, file))
	if err != nil {
		return nil, adapter.Retryable(err)
	}
	rows := parse(t)
	sort.SliceStable(rows, func(i, j int) bool {
		if !rows[i].updated.Equal(rows[j].updated) {
			return rows[i].updated.Before(rows[j].updated)
		}
		return rows[i].id < rows[j].id
	})
	return rows, nil
}
