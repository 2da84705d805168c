package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// guestObject is identity.GuestObject, for the store's queries.
const guestObject = identity.GuestObject

// linkData is the JSON stored in links.data: the record as last pulled,
// and when each of its fields last changed. Readers that want only the
// contact decode it into a domain.Contact.
type linkData struct {
	domain.Contact
	FieldTimes map[string]time.Time `json:"field_times,omitempty"`
}

// unit is one ApplyPage: the identity snapshot it loads, resolves and
// writes, in one transaction. The resolution rules live in
// internal/identity; the unit only reads and writes rows.
type unit struct {
	*identity.Snapshot
	e  *Engine
	tx *sql.Tx
	// conn is the connection tx runs on, for Dialect.CopyFrom; nil when
	// the dialect cannot COPY.
	conn *sql.Conn
	// staged are the staging tables bulkWrite used in this transaction.
	staged map[string]bool
	// storedLinks and storedProfiles are the keys of the links and
	// profiles load read from the database (see bulkWriteNew).
	storedLinks, storedProfiles map[string]bool
	quarant                     [][]any
	// erasing is set when the unit erases a profile (see privacy.go).
	erasing *erasing
}

// ApplyPage implements store.Store.
func (e *Engine) ApplyPage(ctx context.Context, platform, account, object string, changes []adapter.Change, rejected []adapter.Rejected, nextCursor string) (store.ApplyResult, error) {
	var res store.ApplyResult
	err := e.inConnTx(ctx, func(tx *sql.Tx, conn *sql.Conn) error {
		if e.d.Serialize != nil {
			if err := e.d.Serialize(ctx, tx); err != nil {
				return err
			}
		}
		u := &unit{Snapshot: identity.NewSnapshot(e.now().UTC(), e.ident), e: e, tx: tx, conn: conn}
		if err := u.run(ctx, platform, account, object, changes, rejected); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO cursors (platform, account, object, cursor, updated_at) VALUES (?, ?, ?, ?, ?) `+
			upsertSuffix([]string{"platform", "account", "object", "cursor", "updated_at"}, "platform", "account", "object")),
			platform, account, object, nextCursor, ts(u.Now)); err != nil {
			return fmt.Errorf("moving cursor of %s/%s/%s: %w", platform, account, object, err)
		}
		res = u.Result
		e.log.DebugContext(ctx, "applied page", "platform", platform, "account", account, "object", object,
			"changes", len(changes), "upserted", res.Upserted, "deleted", res.Deleted, "skipped", res.Skipped,
			"quarantined", res.Quarantined, "created", len(res.Created), "merged", len(res.Merged), "touched", len(res.Touched))
		return nil
	})
	if err != nil {
		return store.ApplyResult{}, fmt.Errorf("applying %s %s page (%d changes): %w", platform, object, len(changes), err)
	}
	return res, nil
}

func (u *unit) run(ctx context.Context, platform, account, object string, changes []adapter.Change, rejected []adapter.Rejected) error {
	// The cursor's object may be qualified ("webhook/contact"); record
	// types default to its last part.
	if i := strings.LastIndexByte(object, '/'); i >= 0 {
		object = object[i+1:]
	}
	// Work on copies: the caller's page is not modified.
	chs := make([]adapter.Change, 0, len(changes))
	for i := range changes {
		c := changes[i]
		if c.Contact != nil {
			cc := *c.Contact
			c.Contact = &cc
		}
		if c.Company != nil {
			cc := *c.Company
			c.Company = &cc
		}
		if c.Order != nil {
			cc := *c.Order
			c.Order = &cc
		}
		if what, reason := identity.NormalizeChange(&c, platform, account, object); reason != "" {
			raw, _ := json.Marshal(changes[i])
			u.quarantine(platform, account, object, c.Ref, fmt.Sprintf("change %d (%s): %s", i, what, reason), raw)
			continue
		}
		chs = append(chs, c)
	}
	for _, r := range rejected {
		ref := r.Ref
		if ref.Platform == "" {
			ref.Platform = platform
		}
		if ref.Account == "" {
			ref.Account = account
		}
		if ref.ObjectType == "" {
			ref.ObjectType = object
		}
		u.quarantine(platform, account, object, ref, r.Reason, r.Raw)
	}
	chs, err := u.filterSuppressed(ctx, chs)
	if err != nil {
		return err
	}
	if err := u.load(ctx, chs); err != nil {
		return err
	}
	u.Apply(chs)
	if err := u.prepareErasures(ctx, chs); err != nil {
		return err
	}
	return u.write(ctx)
}

func (u *unit) quarantine(platform, account, object string, ref domain.ExternalRef, reason string, raw []byte) {
	rj, _ := json.Marshal(ref)
	if raw == nil {
		raw = []byte{}
	}
	u.quarant = append(u.quarant, []any{platform, account, object, ref.Key(), string(rj), reason, raw, ts(u.Now)})
	u.Result.Quarantined++
}
