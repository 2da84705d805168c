package mailchimp

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// batchOutcome is one operation's result in a batch's results archive.
type batchOutcome struct {
	StatusCode  int    `json:"status_code"`
	OperationID string `json:"operation_id"`
	Response    string `json:"response"`
}

type batchStatus struct {
	ID              string `json:"id"`
	Status          string `json:"status"`
	ResponseBodyURL string `json:"response_body_url"`
}

// pushBatch sends calls as one batch operation (POST /batches), waits
// for it to finish (GET /batches/{id} every batch_poll), reads the
// results archive at its response_body_url and gives each item the
// outcome of its own operations.
func (p *Plugin) pushBatch(ctx context.Context, req adapter.PushRequest, calls []memberCall, results []adapter.PushResult) error {
	ops := make([]map[string]any, len(calls))
	for k, c := range calls {
		b, err := json.Marshal(c.body)
		if err != nil {
			return adapter.Permanent(fmt.Errorf("mailchimp: encoding a batch operation: %w", err))
		}
		ops[k] = map[string]any{"method": c.method, "path": c.path, "body": string(b), "operation_id": strconv.Itoa(k)}
	}
	var st batchStatus
	if err := p.call(ctx, "POST", "/batches", map[string]any{"operations": ops}, &st); err != nil {
		return p.failAll(req, calls, results, fmt.Errorf("mailchimp: starting a batch: %w", err))
	}
	deadline := time.Now().Add(p.cfg.BatchTimeout)
	for st.Status != "finished" {
		if time.Now().After(deadline) {
			return p.failAll(req, calls, results, adapter.Retryable(fmt.Errorf("mailchimp: batch %s still %s after %s", st.ID, st.Status, p.cfg.BatchTimeout)))
		}
		t := time.NewTimer(p.cfg.BatchPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err := p.call(ctx, "GET", "/batches/"+url.PathEscape(st.ID), nil, &st); err != nil {
			return p.failAll(req, calls, results, fmt.Errorf("mailchimp: polling batch %s: %w", st.ID, err))
		}
	}
	outcomes, err := p.batchResults(ctx, st.ResponseBodyURL)
	if err != nil {
		return p.failAll(req, calls, results, fmt.Errorf("mailchimp: batch %s results: %w", st.ID, err))
	}
	for k, c := range calls {
		o, ok := outcomes[strconv.Itoa(k)]
		it := req.Items[c.item]
		switch {
		case results[c.item].Status != adapter.PushOK:
		case !ok:
			results[c.item] = adapter.PushResult{ID: it.ID, Status: adapter.PushRetryable, Reason: "the batch results do not mention its operation"}
		case o.StatusCode >= 300:
			var pr problem
			_ = json.Unmarshal([]byte(o.Response), &pr)
			e := fmt.Errorf("%s %s in batch %s: %d %s: %s", c.method, c.path, st.ID, o.StatusCode, pr.Title, pr.Detail)
			switch {
			case o.StatusCode == http.StatusTooManyRequests || o.StatusCode >= 500:
				results[c.item] = adapter.PushResult{ID: it.ID, Status: adapter.PushRetryable, Reason: e.Error()}
			default:
				results[c.item] = adapter.PushResult{ID: it.ID, Status: adapter.PushPermanent, Reason: e.Error()}
			}
		}
	}
	return nil
}

// failAll gives every item of calls the failure err; a cancelled context
// is returned instead.
func (p *Plugin) failAll(req adapter.PushRequest, calls []memberCall, results []adapter.PushResult, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	for _, c := range calls {
		if results[c.item].Status == adapter.PushOK {
			results[c.item] = failure(req.Items[c.item].ID, err)
		}
	}
	return nil
}

// batchResults downloads a finished batch's results: a gzipped tar of
// JSON files, each an array of operation outcomes. The archive is a
// pre-signed download outside the API, so no API key is sent with it.
func (p *Plugin) batchResults(ctx context.Context, u string) (map[string]batchOutcome, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, adapter.Permanent(fmt.Errorf("results URL: %w", err))
	}
	select {
	case p.conns <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.conns }()
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, adapter.Retryable(fmt.Errorf("downloading: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, adapter.Retryable(fmt.Errorf("downloading: HTTP %d", resp.StatusCode))
	}
	gz, err := gzip.NewReader(resp.Body)
	if err != nil {
		return nil, adapter.Retryable(fmt.Errorf("not a gzip archive: %w", err))
	}
	tr := tar.NewReader(gz)
	out := map[string]batchOutcome{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, adapter.Retryable(fmt.Errorf("reading the archive: %w", err))
		}
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".json") {
			continue
		}
		var os []batchOutcome
		if err := json.NewDecoder(tr).Decode(&os); err != nil {
			return nil, adapter.Retryable(fmt.Errorf("reading %s: %w", h.Name, err))
		}
		for _, o := range os {
			out[o.OperationID] = o
		}
	}
}
