package marketo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// tokenSource holds the access token of the client-credentials grant,
// fetched on first use and again shortly before it expires or after
// Marketo called it invalid (601) or expired (602).
type tokenSource struct {
	url, id, secret string
	client          *httpkit.Client

	mu      sync.Mutex
	token   string
	expires time.Time
}

// Apply implements httpkit.Auth: the token as a Bearer header (Marketo
// stops accepting it as a query parameter on 2026-08-31).
func (t *tokenSource) Apply(ctx context.Context, req *http.Request) error {
	tok, err := t.get(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return nil
}

// Refresh implements httpkit.Refresher.
func (t *tokenSource) Refresh(ctx context.Context) error {
	t.invalidate("")
	_, err := t.get(ctx)
	return err
}

// invalidate forgets the token, unless it is not tok any more (another
// call renewed it already); "" forgets whatever is held.
func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok == "" || tok == t.token {
		t.token = ""
	}
}

func (t *tokenSource) current() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.token
}

func (t *tokenSource) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && time.Until(t.expires) > tokenSlack {
		return t.token, nil
	}
	// The identity description takes the grant as query parameters (GET
	// and POST alike); the client secret in the URL is redacted from
	// every log and error by the HTTP kit.
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {t.id}, "client_secret": {t.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url+"?"+q.Encode(), nil)
	if err != nil {
		return "", adapter.Permanent(fmt.Errorf("marketo: building the token request: %w", err))
	}
	resp, err := t.client.Do(ctx, req)
	if err != nil {
		if k := adapter.KindOf(err); k == adapter.KindPermanent || k == adapter.KindAuth {
			return "", adapter.Auth(fmt.Errorf("marketo: getting an access token: %w", err))
		}
		return "", fmt.Errorf("marketo: getting an access token: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		return "", adapter.Retryable(fmt.Errorf("marketo: the token answer has no access_token (%v)", err))
	}
	t.token = body.AccessToken
	t.expires = time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)
	return t.token, nil
}

// apiError is one member of errors[] or of a record's reasons[].
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e apiError) String() string { return e.Code + " " + e.Message }

// envelope is Marketo's answer to every REST call.
type envelope struct {
	Success       bool            `json:"success"`
	Errors        []apiError      `json:"errors"`
	Result        json.RawMessage `json:"result"`
	NextPageToken string          `json:"nextPageToken"`
	MoreResult    bool            `json:"moreResult"`
}

// request is one REST call: a JSON body, or a form (the Asset API's).
type request struct {
	op     string // names the call in errors
	method string
	path   string
	query  url.Values
	body   any
	form   url.Values
}

// call sends r and returns its envelope, renewing the token once on 601
// or 602 and turning every other call-level error into a typed one.
func (p *Plugin) call(ctx context.Context, r request) (*envelope, error) {
	p.mu.Lock()
	c, slots, base, tokens := p.client, p.slots, p.base, p.token
	p.mu.Unlock()
	if c == nil {
		return nil, adapter.Permanent(errors.New("marketo: not configured"))
	}
	for attempt := 0; ; attempt++ {
		sent := tokens.current()
		env, err := p.send(ctx, c, slots, base, r)
		if err != nil {
			return nil, err
		}
		if env.Success {
			p.count(false)
			return env, nil
		}
		code := ""
		if len(env.Errors) > 0 {
			code = env.Errors[0].Code
		}
		if (code == "601" || code == "602") && attempt == 0 {
			tokens.invalidate(sent)
			continue
		}
		return env, p.classify(r.op, code, env.Errors)
	}
}

func (p *Plugin) send(ctx context.Context, c *httpkit.Client, slots chan struct{}, base string, r request) (*envelope, error) {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-slots }()
	var rd io.Reader
	ctype := ""
	switch {
	case r.form != nil:
		rd, ctype = strings.NewReader(r.form.Encode()), "application/x-www-form-urlencoded"
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, adapter.Permanent(fmt.Errorf("marketo %s: encoding: %w", r.op, err))
		}
		rd, ctype = bytes.NewReader(b), "application/json"
	}
	u := base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return nil, adapter.Permanent(fmt.Errorf("marketo %s: building the request: %w", r.op, err))
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("marketo %s: %w", r.op, err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return nil, adapter.Retryable(fmt.Errorf("marketo %s: decoding the answer: %w", r.op, err))
	}
	return &env, nil
}

// count records a call against today's quota; a 607 marks it spent.
func (p *Plugin) count(exhausted bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	day := centralDay(time.Now())
	if !p.quota.day.Equal(day) {
		p.quota = quotaState{day: day}
	}
	if exhausted {
		p.quota.exhausted = true
		return
	}
	p.quota.used++
	p.quota.exhausted = false // the quota was reset (or raised) since
}

// classify maps a call-level error code to an adapter error ("Error
// Codes"): 606 and 615 wait and retry, 607 waits for the quota to reset
// at midnight Central time, 601/602 (after a renewal) are auth errors,
// 1029 waits for the export queue (a minute) or the export allocation
// (midnight Central time), 6xx system errors are retryable, and the rest
// (1xxx: bad requests) permanent.
func (p *Plugin) classify(op, code string, errs []apiError) error {
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.String()
	}
	err := fmt.Errorf("marketo %s: %s", op, strings.Join(parts, "; "))
	switch code {
	case "606":
		return adapter.RateLimited(window, err)
	case "615":
		return adapter.RateLimited(time.Second, err)
	case "607":
		p.count(true)
		now := time.Now()
		next := centralDay(now).AddDate(0, 0, 1)
		return adapter.RateLimited(next.Sub(now), fmt.Errorf("daily quota spent until midnight Central time: %w", err))
	case "600", "601", "602":
		return adapter.Auth(err)
	case "1029":
		// "Bulk Extract": the daily export allocation is spent until
		// midnight Central time, or the export queue is full.
		if len(errs) > 0 && strings.Contains(strings.ToLower(errs[0].Message), "quota") {
			now := time.Now()
			return adapter.RateLimited(centralDay(now).AddDate(0, 0, 1).Sub(now),
				fmt.Errorf("bulk export allocation spent until midnight Central time: %w", err))
		}
		return adapter.RateLimited(time.Minute, err)
	case "604", "608", "611", "713":
		return adapter.Retryable(err)
	}
	return adapter.Permanent(err)
}

// decode unmarshals an envelope's result.
func decode(env *envelope, op string, out any) error {
	if len(env.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return adapter.Retryable(fmt.Errorf("marketo %s: decoding the result: %w", op, err))
	}
	return nil
}
