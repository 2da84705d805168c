package salesforcefake

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// oauthError answers the token endpoint's error shape: an object, not the
// data API's array.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func eq(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// handleToken serves POST /services/oauth2/token.
func (f *Fake) handleToken(w http.ResponseWriter, r *http.Request) {
	f.count("POST /services/oauth2/token")
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "must use HTTP POST")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "refresh_token":
		if !eq(r.PostForm.Get("client_id"), f.opts.ClientID) {
			oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
			return
		}
		if s := r.PostForm.Get("client_secret"); s != "" && !eq(s, f.opts.ClientSecret) {
			oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
		if !eq(r.PostForm.Get("refresh_token"), f.opts.RefreshToken) {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token")
			return
		}
	case "client_credentials":
		if !eq(r.PostForm.Get("client_id"), f.opts.ClientID) {
			oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid")
			return
		}
		if !eq(r.PostForm.Get("client_secret"), f.opts.ClientSecret) {
			oauthError(w, http.StatusBadRequest, "invalid_client", "invalid client credentials")
			return
		}
	case "urn:ietf:params:oauth:grant-type:jwt-bearer":
		if code, desc := f.checkJWT(r.PostForm.Get("assertion")); code != "" {
			oauthError(w, http.StatusBadRequest, code, desc)
			return
		}
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported")
		return
	}
	f.issueToken(w, r)
}

func (f *Fake) issueToken(w http.ResponseWriter, r *http.Request) {
	var b [24]byte
	_, _ = rand.Read(b[:])
	token := f.opts.OrgID[:15] + "!" + hex.EncodeToString(b[:])
	f.mu.Lock()
	issued := f.opts.Now()
	f.tokens[token] = issued
	f.mu.Unlock()
	base := "http://" + r.Host
	id := base + "/id/" + f.opts.OrgID + "/" + f.opts.UserID
	issuedAt := strconv.FormatInt(issued.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(f.opts.ClientSecret))
	mac.Write([]byte(id + issuedAt))
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-cache,must-revalidate,max-age=0,no-store,private")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"access_token": token,
		"instance_url": base,
		"id":           id,
		"token_type":   "Bearer",
		"issued_at":    issuedAt,
		"signature":    base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"scope":        "api refresh_token",
	})
}

// checkJWT verifies a JWT bearer assertion: RS256 over header.payload with
// the configured key, iss = consumer key, sub = the username, aud = the
// login host, exp in the future.
func (f *Fake) checkJWT(assertion string) (string, string) {
	if f.opts.JWTKey == nil {
		return "invalid_grant", "invalid assertion"
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return "invalid_grant", "invalid assertion"
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	pb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return "invalid_grant", "invalid assertion"
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &hdr) != nil || hdr.Alg != "RS256" {
		return "invalid_grant", "invalid assertion"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(f.opts.JWTKey, crypto.SHA256, sum[:], sig) != nil {
		return "invalid_grant", "invalid assertion"
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp int64           `json:"exp"`
	}
	if json.Unmarshal(pb, &claims) != nil {
		return "invalid_grant", "invalid assertion"
	}
	if claims.Iss != f.opts.ClientID {
		return "invalid_client_id", "client identifier invalid"
	}
	var auds []string
	var one string
	if json.Unmarshal(claims.Aud, &one) == nil {
		auds = []string{one}
	} else if json.Unmarshal(claims.Aud, &auds) != nil {
		return "invalid_grant", "audience is invalid"
	}
	okAud := false
	for _, a := range auds {
		if strings.TrimSuffix(a, "/") == strings.TrimSuffix(f.opts.Audience, "/") {
			okAud = true
		}
	}
	if !okAud {
		return "invalid_grant", "audience is invalid"
	}
	if claims.Exp == 0 || time.Unix(claims.Exp, 0).Before(f.opts.Now()) {
		return "invalid_grant", "expired authorization code"
	}
	if claims.Sub != f.opts.Username {
		return "invalid_grant", "user hasn't approved this consumer"
	}
	return "", ""
}

// sessionValid reports whether the request carries a live access token.
func (f *Fake) sessionValid(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(h, "OAuth ")
	}
	if !ok {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	issued, known := f.tokens[tok]
	if !known || f.expired[tok] {
		return false
	}
	if f.opts.SessionTTL > 0 && f.opts.Now().Sub(issued) >= f.opts.SessionTTL {
		return false
	}
	return true
}
