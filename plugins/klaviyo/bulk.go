package klaviyo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// bulkProperties writes the properties of the items idx with bulk
// profile import jobs (POST /api/profile-bulk-import-jobs): up to 10,000
// profiles and under 5 MB a job. It waits for each job to complete
// (polling its status every job_poll) and reads the import errors of the
// profiles it failed.
func (p *Plugin) bulkProperties(ctx context.Context, req adapter.PushRequest, idx []int, results []adapter.PushResult) error {
	for len(idx) > 0 {
		var chunk []int
		var data []map[string]any
		size := 0
		for len(idx) > 0 && len(chunk) < maxBulkJob {
			o := upsertOf(req, req.Items[idx[0]])
			b, _ := json.Marshal(o)
			if len(chunk) > 0 && size+len(b)+1 > maxBulkBody {
				break
			}
			size += len(b) + 1
			data = append(data, o)
			chunk = append(chunk, idx[0])
			idx = idx[1:]
		}
		failed, err := p.runJob(ctx, data)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for j, i := range chunk {
			switch {
			case err != nil:
				results[i] = result(req.Items[i].ID, err)
			case failed[j] != "":
				results[i] = adapter.PushResult{ID: req.Items[i].ID, Status: adapter.PushPermanent,
					Reason: "klaviyo refused profile " + req.Items[i].Ref.ID + " in a bulk import: " + failed[j]}
			}
		}
	}
	return nil
}

type jobDoc struct {
	Data struct {
		ID         string `json:"id"`
		Attributes struct {
			Status      string `json:"status"`
			FailedCount int    `json:"failed_count"`
		} `json:"attributes"`
	} `json:"data"`
}

// runJob creates one job and waits for it; it returns the failed
// profiles by index in data, with the reason.
func (p *Plugin) runJob(ctx context.Context, data []map[string]any) (map[int]string, error) {
	body := map[string]any{"data": map[string]any{"type": "profile-bulk-import-job",
		"attributes": map[string]any{"profiles": map[string]any{"data": data}}}}
	var job jobDoc
	if err := p.call(ctx, "bulk_import_profiles", http.MethodPost, "/api/profile-bulk-import-jobs", body, &job); err != nil {
		return nil, err
	}
	id := job.Data.ID
	deadline := time.Now().Add(p.cfg.JobTimeout)
	for job.Data.Attributes.Status != "complete" {
		if job.Data.Attributes.Status == "cancelled" {
			return nil, adapter.Retryable(fmt.Errorf("klaviyo: job %s: %w", id, errJobCancelled))
		}
		if time.Now().After(deadline) {
			return nil, adapter.Retryable(fmt.Errorf("klaviyo: job %s still %s after %s", id, job.Data.Attributes.Status, p.cfg.JobTimeout))
		}
		t := time.NewTimer(p.cfg.JobPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		if err := p.call(ctx, "get_bulk_import_job", http.MethodGet, "/api/profile-bulk-import-jobs/"+url.PathEscape(id), nil, &job); err != nil {
			return nil, err
		}
	}
	failed := map[int]string{}
	if job.Data.Attributes.FailedCount == 0 {
		return failed, nil
	}
	next := "/api/profile-bulk-import-jobs/" + url.PathEscape(id) + "/import-errors?page%5Bsize%5D=100"
	for next != "" {
		var errs struct {
			Data []struct {
				Attributes apiError `json:"attributes"`
			} `json:"data"`
			Links struct {
				Next string `json:"next"`
			} `json:"links"`
		}
		if err := p.call(ctx, "get_bulk_import_errors", http.MethodGet, next, nil, &errs); err != nil {
			return nil, err
		}
		for _, e := range errs.Data {
			if n, ok := jobPointer(e.Attributes.Source.Pointer); ok && n < len(data) {
				failed[n] = e.Attributes.Detail
			}
		}
		next = errs.Links.Next
	}
	return failed, nil
}
