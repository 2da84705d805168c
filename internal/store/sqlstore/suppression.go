package sqlstore

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// The suppression list keys an email by HMAC-SHA-256 under the store's
// suppression key (see migration 0010): store.Options.SuppressionKey when
// the configuration gives one, else a random key generated once and kept
// in store_keys. A configured key is checked against the check value
// recorded the first time it was used, so a changed secret, which would
// leave every earlier suppression unmatched, is refused rather than
// silently forgotten. Lookups also try the key generated before a secret
// was configured, and the plain SHA-256 of rows written before keys
// existed; a row found that way is rewritten under the current key.

const (
	keyGenerated = "suppression"       // hex of the generated key
	keyCheck     = "suppression_check" // HMAC of checkLabel under the configured key
	checkLabel   = "segconn suppression key check"

	schemeHMAC   = "hmac"
	schemeLegacy = "sha256"
)

// loadSuppressionKeys reads (or creates) the keys; Migrate calls it, so
// every transaction that hashes finds them loaded.
func (e *Engine) loadSuppressionKeys(ctx context.Context) error {
	return e.inTx(ctx, func(tx *sql.Tx) error {
		var generated []byte
		var gen string
		err := tx.QueryRowContext(ctx, e.q(`SELECT value FROM store_keys WHERE name = ?`), keyGenerated).Scan(&gen)
		switch {
		case err == nil:
			if generated, err = hex.DecodeString(gen); err != nil {
				return fmt.Errorf("reading the generated suppression key: %w", err)
			}
		case errors.Is(err, sql.ErrNoRows):
		default:
			return fmt.Errorf("reading the suppression key: %w", err)
		}
		if len(e.supp.configured) > 0 {
			want := hex.EncodeToString(mac(e.supp.configured, checkLabel))
			var have string
			err := tx.QueryRowContext(ctx, e.q(`SELECT value FROM store_keys WHERE name = ?`), keyCheck).Scan(&have)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO store_keys (name, value, created_at) VALUES (?, ?, ?)`), keyCheck, want, ts(e.now())); err != nil {
					return fmt.Errorf("recording the suppression key check: %w", err)
				}
			case err != nil:
				return fmt.Errorf("reading the suppression key check: %w", err)
			case !hmac.Equal([]byte(have), []byte(want)):
				return errors.New("store.suppression_secret is not the secret the suppression list was built with: erased people would be imported again; restore the earlier secret")
			}
			e.supp.current, e.supp.older = e.supp.configured, generated
			return nil
		}
		if generated == nil {
			generated = make([]byte, 32)
			if _, err := rand.Read(generated); err != nil {
				return fmt.Errorf("generating the suppression key: %w", err)
			}
			if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO store_keys (name, value, created_at) VALUES (?, ?, ?)`), keyGenerated, hex.EncodeToString(generated), ts(e.now())); err != nil {
				return fmt.Errorf("recording the generated suppression key: %w", err)
			}
		}
		e.supp.current = generated
		return nil
	})
}

// suppressionKeys are the keys an email's suppression entry may be under.
type suppressionKeys struct {
	configured []byte // from store.Options
	current    []byte // what new entries are written under
	older      []byte // the generated key, once a secret is configured
}

func mac(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

// emailHash is the suppression key of an email under the current key.
func (e *Engine) emailHash(email string) (string, error) {
	if e.supp.current == nil {
		return "", errors.New("the suppression key is not loaded: migrate the store first")
	}
	return hex.EncodeToString(mac(e.supp.current, domain.NormalizeEmail(email))), nil
}

// hashCandidates returns every hash an email's suppression entry may be
// stored under, the current one first.
func (e *Engine) hashCandidates(email string) ([]string, error) {
	cur, err := e.emailHash(email)
	if err != nil {
		return nil, err
	}
	n := domain.NormalizeEmail(email)
	out := []string{cur}
	if e.supp.older != nil {
		out = append(out, hex.EncodeToString(mac(e.supp.older, n)))
	}
	legacy := sha256.Sum256([]byte(n))
	return append(out, hex.EncodeToString(legacy[:])), nil
}

// EmailHash implements store.Privacy.
func (e *Engine) EmailHash(email string) (string, error) { return e.emailHash(email) }

// rehash rewrites a suppression entry found under an older hash under
// the current one.
func (e *Engine) rehash(ctx context.Context, x execer, old, current string) error {
	if old == current {
		return nil
	}
	if _, err := x.ExecContext(ctx, e.q(`INSERT INTO suppression (email_hash, erasure_id, created_at, scheme)
		SELECT ?, erasure_id, created_at, ? FROM suppression WHERE email_hash = ? ON CONFLICT (email_hash) DO NOTHING`), current, schemeHMAC, old); err != nil {
		return fmt.Errorf("rewriting a suppression entry under the current key: %w", err)
	}
	if _, err := x.ExecContext(ctx, e.q(`DELETE FROM suppression WHERE email_hash = ?`), old); err != nil {
		return fmt.Errorf("rewriting a suppression entry under the current key: %w", err)
	}
	return nil
}

// subjectHash names an erasure's subject in its audit entry: the hash of
// the primary email, or, for a profile without one, a keyed hash of the
// profile id (never the hash of an empty email, which all such profiles
// would share).
func (e *Engine) subjectHash(profileID string, emails []string) (string, error) {
	if len(emails) > 0 {
		return e.emailHash(emails[0])
	}
	if e.supp.current == nil {
		return "", errors.New("the suppression key is not loaded: migrate the store first")
	}
	return hex.EncodeToString(mac(e.supp.current, "profile:"+profileID)), nil
}

// suppressionSkippable reports whether filterSuppressed need not hash the
// page's emails: the page carries none, or the suppression list is empty
// (as it is until the first erasure), which one indexed read tells. A
// store whose keys are not loaded is refused as hashing would refuse it.
func (u *unit) suppressionSkippable(ctx context.Context, chs []adapter.Change) (bool, error) {
	if !slices.ContainsFunc(chs, func(c adapter.Change) bool { return len(changeEmails(c)) > 0 }) {
		return true, nil
	}
	if u.e.supp.current == nil {
		return false, nil
	}
	rows, err := u.e.query(ctx, u.tx, `SELECT 1 FROM suppression LIMIT 1`)
	if err != nil {
		return false, fmt.Errorf("reading the suppression list: %w", err)
	}
	defer rows.Close()
	found := rows.Next()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("reading the suppression list: %w", err)
	}
	return !found, nil
}
