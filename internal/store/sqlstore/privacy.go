package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/segconn/connector/internal/identity"
	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// erasing is what a unit knows of the erasures it performs: who asked,
// and, per erased profile, what the rows held before the unit wrote.
type erasing struct {
	req store.ErasureRequest
	// fromPlatform holds the ref keys whose platform sent the privacy
	// deletion: that copy is gone already.
	fromPlatform map[string]bool
	prepared     map[string]*erasurePrep
	ids          []int64
}

// erasurePrep is an erased profile as stored before the unit: its
// emails (to find them elsewhere) and its platform records.
type erasurePrep struct {
	pid    string
	emails []string
	links  []domain.ExternalRef
	states map[string]store.LinkState
}

// filterSuppressed drops the page's contacts and orders that carry a
// suppressed email: an erased person is not imported again.
func (u *unit) filterSuppressed(ctx context.Context, chs []adapter.Change) ([]adapter.Change, error) {
	if skip, err := u.suppressionSkippable(ctx, chs); skip || err != nil {
		return chs, err
	}
	hashes := map[string]string{} // candidate hash → email
	for _, c := range chs {
		for _, e := range changeEmails(c) {
			cands, err := u.e.hashCandidates(e)
			if err != nil {
				return nil, err
			}
			for _, h := range cands {
				hashes[h] = e
			}
		}
	}
	if len(hashes) == 0 {
		return chs, nil
	}
	found := map[string]bool{}
	err := u.eachKeys(slices.Collect(maps.Keys(hashes)), func(cond string, arg any) error {
		rows, err := u.e.query(ctx, u.tx, u.e.q(`SELECT email_hash FROM suppression WHERE email_hash `+cond), arg)
		if err != nil {
			return fmt.Errorf("reading the suppression list: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				return fmt.Errorf("reading the suppression list: %w", err)
			}
			found[h] = true
		}
		return rows.Err()
	})
	if err != nil || len(found) == 0 {
		return chs, err
	}
	// Emails found under an older hash are rewritten under the current key.
	suppressed := map[string]bool{}
	for h := range found {
		e := hashes[h]
		suppressed[e] = true
		cur, err := u.e.emailHash(e)
		if err != nil {
			return nil, err
		}
		if err := u.e.rehash(ctx, u.tx, h, cur); err != nil {
			return nil, err
		}
	}
	out := chs[:0]
	var dropped []string
	for _, c := range chs {
		if emails := changeEmails(c); slices.ContainsFunc(emails, func(e string) bool { return suppressed[e] }) {
			u.Result.Skipped++
			dropped = append(dropped, emails...)
			continue
		}
		out = append(out, c)
	}
	// The webhook that brought the record may hold it in the inbox: its
	// payload goes too (rare, so a scan is fine).
	if err := u.scrubRows(ctx, "inbox", "payload", dropped, func(id int64, _ []byte) error {
		_, err := u.tx.ExecContext(ctx, u.e.q(`UPDATE inbox SET payload = ? WHERE id = ?`), []byte(`{"erased":true}`), id)
		return err
	}); err != nil {
		return nil, err
	}
	return out, nil
}

func changeEmails(c adapter.Change) []string {
	var out []string
	if c.Contact != nil {
		out = append(out, identity.Emails(c.Contact)...)
	}
	if c.Order != nil {
		if e := domain.NormalizeEmail(c.Order.BillingEmail); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// prepareErasures reads, before the unit writes, what each profile it
// erases holds: emails and platform records.
func (u *unit) prepareErasures(ctx context.Context, chs []adapter.Change) error {
	if len(u.Erase) == 0 {
		return nil
	}
	if u.erasing == nil {
		u.erasing = &erasing{req: store.ErasureRequest{RequestedBy: "platform", Source: "privacy deletion"}}
	}
	er := u.erasing
	if er.fromPlatform == nil {
		er.fromPlatform = map[string]bool{}
		for _, c := range chs {
			if c.Privacy {
				er.fromPlatform[c.Ref.Key()] = true
				er.req.RequestedBy, er.req.Source = "platform:"+c.Ref.Platform, c.Ref.Platform+" privacy deletion"
			}
		}
	}
	er.prepared = map[string]*erasurePrep{}
	for _, pid := range u.Erase {
		pid = u.Resolve(pid)
		if er.prepared[pid] != nil {
			continue
		}
		p := &erasurePrep{pid: pid, states: map[string]store.LinkState{}}
		er.prepared[pid] = p
		emails := map[string]bool{}
		addContact := func(c domain.Contact) {
			for _, e := range identity.Emails(&c) {
				emails[e] = true
			}
		}
		rows, err := u.tx.QueryContext(ctx, u.e.q(`SELECT ref_key, platform, account, object_type, ext_id, state, data FROM links WHERE profile_id = ?`), pid)
		if err != nil {
			return fmt.Errorf("reading the records of erased profile %s: %w", pid, err)
		}
		for rows.Next() {
			var key, state, data string
			var r domain.ExternalRef
			if err := rows.Scan(&key, &r.Platform, &r.Account, &r.ObjectType, &r.ID, &state, &data); err != nil {
				rows.Close()
				return fmt.Errorf("reading the records of erased profile %s: %w", pid, err)
			}
			var ld linkData
			if json.Unmarshal([]byte(data), &ld) == nil {
				addContact(ld.Contact)
			}
			p.links = append(p.links, r)
			p.states[key] = store.LinkState(state)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading the records of erased profile %s: %w", pid, err)
		}
		var data, primary string
		err = u.tx.QueryRowContext(ctx, u.e.q(`SELECT data, primary_email FROM profiles WHERE id = ?`), pid).Scan(&data, &primary)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("reading erased profile %s: %w", pid, err)
		}
		var prof domain.Profile
		if data != "" && json.Unmarshal([]byte(data), &prof) == nil {
			addContact(domain.Contact{Emails: prof.Emails, FirstName: prof.FirstName, LastName: prof.LastName})
		}
		if e := domain.NormalizeEmail(primary); e != "" {
			emails[e] = true
			p.emails = append(p.emails, e) // the primary first: it names the subject
		}
		erows, err := u.tx.QueryContext(ctx, u.e.q(`SELECT email FROM profile_emails WHERE profile_id = ?`), pid)
		if err != nil {
			return fmt.Errorf("reading the emails of erased profile %s: %w", pid, err)
		}
		for erows.Next() {
			var e string
			if err := erows.Scan(&e); err == nil {
				emails[e] = true
			}
		}
		erows.Close()
		for _, e := range slices.Sorted(maps.Keys(emails)) {
			if !slices.Contains(p.emails, e) {
				p.emails = append(p.emails, e)
			}
		}
	}
	return nil
}

// writeErasureRecords records each erasure of the unit (audit entry,
// suppression, platform tasks) and removes the person's data from the
// tables outside identity resolution.
func (u *unit) writeErasureRecords(ctx context.Context) error {
	if u.erasing == nil {
		return nil
	}
	er := u.erasing
	now := ts(u.Now)
	for _, pid := range slices.Sorted(maps.Keys(er.prepared)) {
		p := er.prepared[pid]
		subject, err := u.e.subjectHash(pid, p.emails)
		if err != nil {
			return err
		}
		var id int64
		if err := u.tx.QueryRowContext(ctx, u.e.q(`INSERT INTO erasures (profile_id, subject_hash, source, requested_by, requested_at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
			pid, subject, er.req.Source, er.req.RequestedBy, now).Scan(&id); err != nil {
			return fmt.Errorf("recording the erasure of %s: %w", pid, err)
		}
		er.ids = append(er.ids, id)
		for _, e := range p.emails {
			h, err := u.e.emailHash(e)
			if err != nil {
				return err
			}
			if _, err := u.tx.ExecContext(ctx, u.e.q(`INSERT INTO suppression (email_hash, erasure_id, created_at, scheme) VALUES (?, ?, ?, ?) ON CONFLICT (email_hash) DO NOTHING`),
				h, id, now, schemeHMAC); err != nil {
				return fmt.Errorf("suppressing an email of %s: %w", pid, err)
			}
		}
		pending := 0
		for _, r := range p.links {
			key := r.Key()
			st := p.states[key]
			if r.ObjectType == guestObject || st == store.LinkErased || st == store.LinkMerged {
				continue
			}
			status, answer := store.ErasurePending, ""
			if er.fromPlatform[key] {
				status, answer = store.ErasureDone, "the platform's own privacy deletion"
			} else {
				pending++
			}
			if _, err := u.tx.ExecContext(ctx, u.e.q(`INSERT INTO erasure_tasks (erasure_id, ref_key, platform, account, object_type, ext_id, status, answer, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
				id, key, r.Platform, r.Account, r.ObjectType, r.ID, string(status), answer, now); err != nil {
				return fmt.Errorf("recording the platform deletion of %s: %w", key, err)
			}
		}
		if pending == 0 {
			if _, err := u.tx.ExecContext(ctx, u.e.q(`UPDATE erasures SET completed_at = ? WHERE id = ?`), now, id); err != nil {
				return fmt.Errorf("completing the erasure of %s: %w", pid, err)
			}
		}
		if err := u.scrub(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

// scrub removes an erased person's data from the tables identity
// resolution does not own: webhook payloads, outbound deliveries, order
// documents, identity event details and quarantined records; and closes
// the write-back still queued for their records.
func (u *unit) scrub(ctx context.Context, p *erasurePrep) error {
	tx, e := u.tx, u.e
	needles := slices.Clone(p.emails)
	erasedPayload := []byte(`{"erased":true}`)
	// Inbox payloads that name the person are replaced; an event not yet
	// processed is closed (its record is erased anyway).
	if err := u.scrubRows(ctx, "inbox", "payload", needles, func(id int64, _ []byte) error {
		_, err := tx.ExecContext(ctx, e.q(`UPDATE inbox SET payload = ?, processed_at = CASE WHEN processed_at = 0 THEN ? ELSE processed_at END WHERE id = ?`), erasedPayload, ts(u.Now), id)
		return err
	}); err != nil {
		return err
	}
	// Outbound deliveries batch several people's events: only the email
	// is cut out, the rest of the batch is delivered as it was.
	if err := u.scrubRows(ctx, "outbound_deliveries", "payload", needles, func(id int64, v []byte) error {
		_, err := tx.ExecContext(ctx, e.q(`UPDATE outbound_deliveries SET payload = ? WHERE id = ?`), string(cutAll(v, needles)), id)
		return err
	}); err != nil {
		return err
	}
	// Event details name records and profiles, and emails at most: only
	// rows that hold an email are blanked (a name could match any text).
	if err := u.scrubRows(ctx, "identity_events", "detail", needles, func(id int64, _ []byte) error {
		_, err := tx.ExecContext(ctx, e.q(`UPDATE identity_events SET detail = '(erased)' WHERE id = ?`), id)
		return err
	}); err != nil {
		return err
	}
	if err := u.scrubRows(ctx, "quarantine", "raw", needles, func(id int64, _ []byte) error {
		_, err := tx.ExecContext(ctx, e.q(`DELETE FROM quarantine WHERE id = ?`), id)
		return err
	}); err != nil {
		return err
	}
	// Order documents keep their billing email in the JSON too.
	rows, err := tx.QueryContext(ctx, e.q(`SELECT ref_key, data FROM orders WHERE profile_id = ?`), p.pid)
	if err != nil {
		return fmt.Errorf("reading the orders of erased profile %s: %w", p.pid, err)
	}
	docs := map[string]string{}
	for rows.Next() {
		var k, d string
		if err := rows.Scan(&k, &d); err != nil {
			rows.Close()
			return fmt.Errorf("reading the orders of erased profile %s: %w", p.pid, err)
		}
		docs[k] = d
	}
	rows.Close()
	for k, d := range docs {
		var o domain.Order
		if json.Unmarshal([]byte(d), &o) != nil || o.BillingEmail == "" {
			continue
		}
		o.BillingEmail = ""
		b, _ := json.Marshal(o)
		if _, err := tx.ExecContext(ctx, e.q(`UPDATE orders SET data = ?, billing_email = '' WHERE ref_key = ?`), string(b), k); err != nil {
			return fmt.Errorf("erasing the billing email of order %s: %w", k, err)
		}
	}
	// Queued write-back to the person's records is dropped: they are
	// about to be deleted.
	keys := make([]string, 0, len(p.links))
	for _, r := range p.links {
		keys = append(keys, r.Key())
	}
	return inList(keys, func(list string, args []any) error {
		_, err := tx.ExecContext(ctx, e.q(`UPDATE outbox SET status = 'done', payload = ?, updated_at = ? WHERE status IN ('pending', 'superseded') AND item_key IN `+list),
			append([]any{[]byte(`{}`), ts(u.Now)}, args...)...)
		if err != nil {
			return fmt.Errorf("closing the write-back of an erased profile: %w", err)
		}
		return nil
	})
}

// scrubRows calls fix for every row of table whose column contains one
// of needles (case-insensitively). Erasures are rare; a scan is simpler
// and more thorough than per-dialect pattern matching on binary columns.
func (u *unit) scrubRows(ctx context.Context, table, column string, needles []string, fix func(id int64, v []byte) error) error {
	if len(needles) == 0 {
		return nil
	}
	rows, err := u.tx.QueryContext(ctx, `SELECT id, `+column+` FROM `+table)
	if err != nil {
		return fmt.Errorf("scanning %s for an erased person: %w", table, err)
	}
	type hit struct {
		id int64
		v  []byte
	}
	var hits []hit
	lower := make([][]byte, len(needles))
	for i, n := range needles {
		lower[i] = bytes.ToLower([]byte(n))
	}
	for rows.Next() {
		var id int64
		var v []byte
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return fmt.Errorf("scanning %s for an erased person: %w", table, err)
		}
		lv := bytes.ToLower(v)
		if slices.ContainsFunc(lower, func(n []byte) bool { return len(n) > 0 && bytes.Contains(lv, n) }) {
			hits = append(hits, hit{id, v})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scanning %s for an erased person: %w", table, err)
	}
	for _, h := range hits {
		if err := fix(h.id, h.v); err != nil {
			return fmt.Errorf("erasing a person from %s row %d: %w", table, h.id, err)
		}
	}
	return nil
}

// cutAll removes every case-insensitive occurrence of the needles.
func cutAll(v []byte, needles []string) []byte {
	for _, n := range needles {
		if n == "" {
			continue
		}
		ln := bytes.ToLower([]byte(n))
		for {
			i := bytes.Index(bytes.ToLower(v), ln)
			if i < 0 {
				break
			}
			v = append(v[:i:i], v[i+len(ln):]...)
		}
	}
	return v
}

// ErrAlreadyErased is returned by Erase for a profile with no record
// left to erase.
var ErrAlreadyErased = errors.New("already erased")

// Erase implements store.Privacy: the profile is erased as a privacy
// deletion of one of its records would, in one transaction, and every
// platform record it had gets a deletion task.
func (e *Engine) Erase(ctx context.Context, profileID string, req store.ErasureRequest) (store.Erasure, error) {
	prof, err := e.Profile(ctx, profileID)
	if err != nil {
		return store.Erasure{}, fmt.Errorf("erasing profile %s: %w", profileID, err)
	}
	var ids []int64
	err = e.inTx(ctx, func(tx *sql.Tx) error {
		if e.d.Serialize != nil {
			if err := e.d.Serialize(ctx, tx); err != nil {
				return err
			}
		}
		var r domain.ExternalRef
		err := tx.QueryRowContext(ctx, e.q(`SELECT platform, account, object_type, ext_id FROM links WHERE profile_id = ? AND state <> ? ORDER BY ref_key LIMIT 1`),
			prof.ID, string(store.LinkErased)).Scan(&r.Platform, &r.Account, &r.ObjectType, &r.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("profile %s: %w", prof.ID, ErrAlreadyErased)
		}
		if err != nil {
			return fmt.Errorf("finding a record of profile %s: %w", prof.ID, err)
		}
		u := &unit{Snapshot: identity.NewSnapshot(e.now().UTC(), e.ident), e: e, tx: tx,
			erasing: &erasing{req: req, fromPlatform: map[string]bool{}}}
		if err := u.run(ctx, r.Platform, r.Account, r.ObjectType, []adapter.Change{{Kind: adapter.ChangeDelete, Ref: r, Privacy: true}}, nil); err != nil {
			return err
		}
		ids = u.erasing.ids
		return nil
	})
	if err != nil {
		return store.Erasure{}, fmt.Errorf("erasing profile %s: %w", profileID, err)
	}
	if len(ids) == 0 {
		return store.Erasure{}, fmt.Errorf("erasing profile %s: nothing was erased", profileID)
	}
	return e.Erasure(ctx, ids[0])
}

// Suppressed implements store.Privacy. An entry found under an older
// hash is rewritten under the current key.
func (e *Engine) Suppressed(ctx context.Context, email string) (bool, error) {
	cands, err := e.hashCandidates(email)
	if err != nil {
		return false, err
	}
	for _, h := range cands {
		var n int
		if err := e.r.QueryRowContext(ctx, e.q(`SELECT COUNT(*) FROM suppression WHERE email_hash = ?`), h).Scan(&n); err != nil {
			return false, fmt.Errorf("reading the suppression list: %w", err)
		}
		if n > 0 {
			if h != cands[0] {
				if err := e.inTx(ctx, func(tx *sql.Tx) error { return e.rehash(ctx, tx, h, cands[0]) }); err != nil {
					return true, err
				}
			}
			return true, nil
		}
	}
	return false, nil
}

// Erasures implements store.Privacy.
func (e *Engine) Erasures(ctx context.Context, open bool, limit int) ([]store.Erasure, error) {
	q := `SELECT id FROM erasures`
	if open {
		q += ` WHERE completed_at = 0`
	}
	q += ` ORDER BY id DESC LIMIT ?`
	rows, err := e.r.QueryContext(ctx, e.q(q), limit)
	if err != nil {
		return nil, fmt.Errorf("listing erasures: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("listing erasures: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]store.Erasure, 0, len(ids))
	for _, id := range ids {
		er, err := e.Erasure(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, er)
	}
	return out, nil
}

// Erasure implements store.Privacy.
func (e *Engine) Erasure(ctx context.Context, id int64) (store.Erasure, error) {
	er := store.Erasure{ID: id}
	var req, done int64
	if err := e.r.QueryRowContext(ctx, e.q(`SELECT profile_id, subject_hash, source, requested_by, requested_at, completed_at FROM erasures WHERE id = ?`), id).
		Scan(&er.ProfileID, &er.SubjectHash, &er.Source, &er.RequestedBy, &req, &done); err != nil {
		return er, fmt.Errorf("reading erasure %d: %w", id, err)
	}
	er.RequestedAt, er.CompletedAt = fromTS(req), fromTS(done)
	tasks, err := e.erasureTasks(ctx, `WHERE erasure_id = ? ORDER BY ref_key`, id)
	er.Tasks = tasks
	return er, err
}

func (e *Engine) erasureTasks(ctx context.Context, where string, args ...any) ([]store.ErasureTask, error) {
	rows, err := e.r.QueryContext(ctx, e.q(`SELECT erasure_id, platform, account, object_type, ext_id, status, attempts, answer, not_before, updated_at FROM erasure_tasks `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("reading erasure tasks: %w", err)
	}
	defer rows.Close()
	var out []store.ErasureTask
	for rows.Next() {
		var t store.ErasureTask
		var st string
		var nb, up int64
		if err := rows.Scan(&t.ErasureID, &t.Ref.Platform, &t.Ref.Account, &t.Ref.ObjectType, &t.Ref.ID, &st, &t.Attempts, &t.Answer, &nb, &up); err != nil {
			return nil, fmt.Errorf("reading erasure tasks: %w", err)
		}
		t.Status, t.NotBefore, t.UpdatedAt = store.ErasureStatus(st), fromTS(nb), fromTS(up)
		out = append(out, t)
	}
	return out, rows.Err()
}

// ErasureTasksDue implements store.Privacy.
func (e *Engine) ErasureTasksDue(ctx context.Context, now time.Time, limit int) ([]store.ErasureTask, error) {
	return e.erasureTasks(ctx, `WHERE status = ? AND not_before <= ? ORDER BY erasure_id, ref_key LIMIT ?`, string(store.ErasurePending), ts(now), limit)
}

// SettleErasureTask implements store.Privacy.
func (e *Engine) SettleErasureTask(ctx context.Context, erasureID int64, refKey string, status store.ErasureStatus, answer string, retryAt time.Time) error {
	now := ts(e.now())
	return e.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, e.q(`UPDATE erasure_tasks SET status = ?, answer = ?, attempts = attempts + 1, not_before = ?, updated_at = ? WHERE erasure_id = ? AND ref_key = ?`),
			string(status), answer, ts(retryAt), now, erasureID, refKey)
		if err != nil {
			return fmt.Errorf("settling the deletion of %s (erasure %d): %w", refKey, erasureID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("settling the deletion of %s (erasure %d): %w", refKey, erasureID, store.ErrNotFound)
		}
		var pending int
		if err := tx.QueryRowContext(ctx, e.q(`SELECT COUNT(*) FROM erasure_tasks WHERE erasure_id = ? AND status = ?`), erasureID, string(store.ErasurePending)).Scan(&pending); err != nil {
			return fmt.Errorf("checking erasure %d: %w", erasureID, err)
		}
		if pending == 0 {
			if _, err := tx.ExecContext(ctx, e.q(`UPDATE erasures SET completed_at = ? WHERE id = ? AND completed_at = 0`), now, erasureID); err != nil {
				return fmt.Errorf("completing erasure %d: %w", erasureID, err)
			}
		}
		return nil
	})
}
