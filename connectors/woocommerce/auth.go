package woocommerce

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// basicAuth sends the key pair as HTTP Basic credentials (HTTPS only).
type basicAuth struct{ key, secret string }

func (a basicAuth) Apply(_ context.Context, req *http.Request) error {
	req.SetBasicAuth(a.key, a.secret)
	return nil
}

// queryAuth sends the key pair as query parameters, for servers that
// strip the Authorization header (HTTPS only).
type queryAuth struct{ key, secret string }

func (a queryAuth) Apply(_ context.Context, req *http.Request) error {
	q := req.URL.Query()
	q.Set("consumer_key", a.key)
	q.Set("consumer_secret", a.secret)
	req.URL.RawQuery = q.Encode()
	return nil
}

// oauth1Auth signs every attempt with OAuth 1.0a one-legged, as
// WooCommerce wants over plain HTTP: parameters in the query string, a
// fresh nonce and timestamp per attempt, key = consumer_secret + "&", no
// oauth_version, body not signed.
type oauth1Auth struct {
	key, secret string
	method      string // HMAC-SHA256 or HMAC-SHA1
	now         func() time.Time
}

func (a oauth1Auth) Apply(_ context.Context, req *http.Request) error {
	q := req.URL.Query()
	for k := range q {
		if strings.HasPrefix(k, "oauth_") {
			q.Del(k)
		}
	}
	var nb [16]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return fmt.Errorf("making oauth nonce: %w", err)
	}
	q.Set("oauth_consumer_key", a.key)
	q.Set("oauth_nonce", hex.EncodeToString(nb[:]))
	q.Set("oauth_signature_method", a.method)
	q.Set("oauth_timestamp", strconv.FormatInt(a.now().Unix(), 10))
	base := signatureBase(req.Method, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path, q)
	var h func() hash.Hash = sha256.New
	if a.method == "HMAC-SHA1" {
		h = sha1.New
	}
	mac := hmac.New(h, []byte(a.secret+"&"))
	mac.Write([]byte(base))
	q.Set("oauth_signature", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	req.URL.RawQuery = q.Encode()
	return nil
}

// signatureBase is the OAuth 1.0a base string:
// METHOD&pct(url)&pct(sorted pct(k)=pct(v) joined by &).
func signatureBase(method, baseURL string, params url.Values) string {
	pairs := make([]string, 0, len(params))
	for k, vs := range params {
		if k == "oauth_signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, rfc3986(k)+"="+rfc3986(v))
		}
	}
	sort.Strings(pairs)
	return strings.ToUpper(method) + "&" + rfc3986(baseURL) + "&" + rfc3986(strings.Join(pairs, "&"))
}

func rfc3986(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}
