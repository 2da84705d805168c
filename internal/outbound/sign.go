package outbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Header names of an outbound delivery.
const (
	// HeaderTimestamp carries the signing time in Unix seconds.
	HeaderTimestamp = "X-Connector-Timestamp"
	// HeaderSignature carries "v1=<hex HMAC-SHA256>"; several
	// comma-separated v1 values may appear while a secret is rotated.
	HeaderSignature = "X-Connector-Signature"
	// HeaderDelivery identifies the batch; it is the same on every retry
	// of the same batch, so receivers can drop repeats.
	HeaderDelivery = "X-Connector-Delivery"
	// HeaderAttempt is the 1-based attempt number of this request.
	HeaderAttempt = "X-Connector-Attempt"
)

// SignatureVersion prefixes every signature value.
const SignatureVersion = "v1"

// DefaultTolerance is the clock skew Verify callers should normally allow.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify; test with errors.Is.
var (
	ErrNoSignature    = errors.New("missing signature header")
	ErrBadTimestamp   = errors.New("malformed timestamp header")
	ErrStaleTimestamp = errors.New("timestamp outside the tolerance")
	ErrBadSignature   = errors.New("signature does not match")
)

// Sign returns the hex HMAC-SHA256, keyed by secret, of timestamp + "." +
// body, where timestamp is the decimal Unix time sent in HeaderTimestamp.
func Sign(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// SignatureHeader returns the value of HeaderSignature for one secret.
func SignatureHeader(secret string, timestamp int64, body []byte) string {
	return SignatureVersion + "=" + Sign(secret, timestamp, body)
}

// Verify checks a delivery as a receiver sees it: the timestamp header must
// be within tolerance of now (either side) and one of the v1 signatures
// must equal the HMAC-SHA256 of timestamp + "." + body under secret. Compare
// the body exactly as received, before any JSON parsing.
func Verify(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	sigs := header.Values(HeaderSignature)
	if len(sigs) == 0 {
		return fmt.Errorf("verifying outbound webhook: %s: %w", HeaderSignature, ErrNoSignature)
	}
	rawTS := strings.TrimSpace(header.Get(HeaderTimestamp))
	ts, err := strconv.ParseInt(rawTS, 10, 64)
	if err != nil || ts <= 0 {
		return fmt.Errorf("verifying outbound webhook: %s %q: %w", HeaderTimestamp, rawTS, ErrBadTimestamp)
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("verifying outbound webhook: %s is %s away from now (tolerance %s): %w",
			HeaderTimestamp, skew.Round(time.Second), tolerance, ErrStaleTimestamp)
	}
	want, _ := hex.DecodeString(Sign(secret, ts, body))
	seen := false
	for _, h := range sigs {
		for _, part := range strings.Split(h, ",") {
			v, ok := strings.CutPrefix(strings.TrimSpace(part), SignatureVersion+"=")
			if !ok {
				continue
			}
			seen = true
			got, err := hex.DecodeString(v)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	if !seen {
		return fmt.Errorf("verifying outbound webhook: no %s= value in %s: %w", SignatureVersion, HeaderSignature, ErrNoSignature)
	}
	return fmt.Errorf("verifying outbound webhook: %w", ErrBadSignature)
}
