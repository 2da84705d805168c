package woocommercefake

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// authenticate implements WooCommerce's REST authentication: Basic or
// query-string keys when the request is HTTPS, OAuth 1.0a one-legged when
// it is plain HTTP. It returns the key or the error to answer. Called with
// f.mu held.
func (f *Fake) authenticateLocked(r *http.Request) (Key, *apiError) {
	secure := r.TLS != nil || f.opts.AssumeHTTPS
	if secure {
		ck, cs, ok := r.BasicAuth()
		if !ok {
			q := r.URL.Query()
			ck, cs = q.Get("consumer_key"), q.Get("consumer_secret")
			ok = ck != "" && cs != ""
		}
		if !ok {
			return Key{}, errCannotView(r)
		}
		k, found := f.keyLocked(ck)
		if !found {
			return Key{}, authErr("Consumer key is invalid.")
		}
		if subtle.ConstantTimeCompare([]byte(k.ConsumerSecret), []byte(cs)) != 1 {
			return Key{}, authErr("Consumer secret is invalid.")
		}
		return k, nil
	}
	params := oauthParams(r)
	if params.Get("oauth_consumer_key") == "" && params.Get("oauth_signature") == "" {
		return Key{}, errCannotView(r)
	}
	var missing []string
	for _, p := range []string{"oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method"} {
		if params.Get(p) == "" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		msg := "Missing OAuth parameter " + missing[0]
		if len(missing) > 1 {
			msg = "Missing OAuth parameters " + strings.Join(missing, ", ")
		}
		return Key{}, authErr(msg)
	}
	k, found := f.keyLocked(params.Get("oauth_consumer_key"))
	if !found {
		return Key{}, authErr("Consumer key is invalid.")
	}
	var h func() hash.Hash
	switch params.Get("oauth_signature_method") {
	case "HMAC-SHA1":
		h = sha1.New
	case "HMAC-SHA256":
		h = sha256.New
	default:
		return Key{}, authErr("Invalid signature - signature method is invalid.")
	}
	base := SignatureBase(r.Method, "http://"+r.Host+r.URL.Path, params)
	mac := hmac.New(h, []byte(k.ConsumerSecret+"&"))
	mac.Write([]byte(base))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	got := strings.ReplaceAll(params.Get("oauth_signature"), " ", "+")
	if !hmac.Equal([]byte(want), []byte(got)) {
		return Key{}, authErr("Invalid signature - provided signature does not match.")
	}
	ts, err := strconv.ParseInt(params.Get("oauth_timestamp"), 10, 64)
	now := f.opts.Now()
	if err != nil || time.Unix(ts, 0).Before(now.Add(-15*time.Minute)) || time.Unix(ts, 0).After(now.Add(15*time.Minute)) {
		return Key{}, authErr("Invalid timestamp.")
	}
	nk := k.ConsumerKey + "\x00" + params.Get("oauth_nonce")
	if _, used := f.nonces[nk]; used {
		return Key{}, authErr("Invalid nonce - nonce has already been used.")
	}
	f.nonces[nk] = time.Unix(ts, 0)
	if len(f.nonces) > 10000 {
		for n, t := range f.nonces {
			if t.Before(now.Add(-15 * time.Minute)) {
				delete(f.nonces, n)
			}
		}
	}
	return k, nil
}

func (f *Fake) keyLocked(ck string) (Key, bool) {
	for _, k := range f.opts.Keys {
		if subtle.ConstantTimeCompare([]byte(k.ConsumerKey), []byte(ck)) == 1 {
			return k, true
		}
	}
	return Key{}, false
}

// oauthParams gathers the query parameters and, from WooCommerce 3.0 on,
// an "Authorization: OAuth …" header's parameters.
func oauthParams(r *http.Request) url.Values {
	params := r.URL.Query()
	if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "OAuth ") {
		for _, part := range strings.Split(a[len("OAuth "):], ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				continue
			}
			k, _ = url.PathUnescape(k)
			v, _ = url.PathUnescape(strings.Trim(v, `"`))
			if k != "realm" {
				params.Set(k, v)
			}
		}
	}
	return params
}

// SignatureBase builds the OAuth 1.0a signature base string the way
// WooCommerce checks it: METHOD&pct(url)&pct(sorted pct(key)=pct(value)),
// without oauth_signature. Exported so tests can sign requests by hand.
func SignatureBase(method, baseURL string, params url.Values) string {
	pairs := make([]string, 0, len(params))
	for k, vs := range params {
		if k == "oauth_signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, pct(k)+"="+pct(v))
		}
	}
	sort.Strings(pairs)
	return strings.ToUpper(method) + "&" + pct(baseURL) + "&" + pct(strings.Join(pairs, "&"))
}

// pct is RFC 3986 percent-encoding (PHP rawurlencode).
func pct(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)>>4, 16)) + strings.ToUpper(strconv.FormatInt(int64(c)&15, 16)))
		}
	}
	return b.String()
}

func authErr(msg string) *apiError {
	return &apiError{Code: "woocommerce_rest_authentication_error", Message: msg, Data: map[string]any{"status": http.StatusUnauthorized}}
}

func errCannotView(r *http.Request) *apiError {
	code, msg := "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		code, msg = "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."
	case http.MethodDelete:
		code, msg = "woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."
	}
	return &apiError{Code: code, Message: msg, Data: map[string]any{"status": http.StatusUnauthorized}}
}
