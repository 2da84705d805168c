package marketo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Bulk lead extract limits ("Bulk Extract", Limits).
const (
	maxExportJobs = 2                   // export jobs processing at once
	exportSpan    = 31 * 24 * time.Hour // widest createdAt range of a job
)

// exportFields are the lead fields a bulk extract writes, in order.
var exportFields = strings.Split(leadFields, ",")

// exportStatus is a bulk export job's status record.
type exportStatus struct {
	ExportID        string `json:"exportId"`
	Status          string `json:"status"`
	ErrorMsg        string `json:"errorMsg"`
	FileSize        int64  `json:"fileSize"`
	FileChecksum    string `json:"fileChecksum"`
	NumberOfRecords int    `json:"numberOfRecords"`
}

// exportJob is a job the plugin started, over leads created in [from, to].
type exportJob struct {
	id       string
	from, to time.Time
	polled   time.Time // last status call (or the enqueue)
}

// bulkLeads reads the leads created in [cur.BulkFrom, cur.BulkTo] with
// bulk lead extract jobs of at most 31 days each, two at a time (the
// jobs Marketo processes at once), and hands them to sink in pages of
// size, in the order of the windows. A page's cursor resumes at the start
// of its window, the last page of a window's at its end. A lead is sent
// once even if two windows hold it (they share their boundary second).
func (p *Plugin) bulkLeads(ctx context.Context, cur cursor, poll time.Duration, size int, eng map[int]*engagement, sink adapter.PageSink) (cursor, error) {
	seen := map[int]bool{}
	var running []exportJob
	defer func() {
		// Jobs still queued when the pull stops would spend the daily
		// export allocation for nothing: cancel them, best effort.
		for _, j := range running {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_, _ = p.call(cctx, request{op: "cancel export", method: http.MethodPost, path: "/bulk/v1/leads/export/" + j.id + "/cancel.json"})
			cancel()
		}
	}()
	next := cur.BulkFrom
	for next.Before(cur.BulkTo) || len(running) > 0 {
		for len(running) < maxExportJobs && next.Before(cur.BulkTo) {
			to := next.Add(exportSpan)
			if to.After(cur.BulkTo) {
				to = cur.BulkTo
			}
			id, err := p.startExport(ctx, next, to)
			if err != nil {
				return cur, err
			}
			running = append(running, exportJob{id: id, from: next, to: to, polled: time.Now()})
			next = to
		}
		j := &running[0]
		st, err := p.awaitExport(ctx, j, poll)
		if err != nil {
			if st.Status != "" {
				running = running[1:] // failed or cancelled already
			}
			return cur, err
		}
		leads, err := p.exportFile(ctx, j.id, st)
		if err != nil {
			return cur, err
		}
		running = running[1:]
		var fresh []lead
		for _, l := range leads {
			if !seen[l.ID] {
				seen[l.ID] = true
				fresh = append(fresh, l)
			}
		}
		for len(fresh) > 0 {
			n := min(len(fresh), size)
			page := adapter.Page{}
			for _, l := range fresh[:n] {
				page.Changes = append(page.Changes, change(l, eng))
			}
			fresh = fresh[n:]
			c := cur
			c.BulkFrom = j.from
			if len(fresh) == 0 {
				c.BulkFrom = j.to
			}
			page.Cursor = c.encode()
			if err := sink(ctx, page); err != nil {
				return cur, err
			}
		}
		cur.BulkFrom = j.to
	}
	cur.BulkFrom, cur.BulkTo = time.Time{}, time.Time{}
	return cur, nil
}

// startExport creates and enqueues a job extracting the leads created in
// [from, to] as CSV.
func (p *Plugin) startExport(ctx context.Context, from, to time.Time) (string, error) {
	body := map[string]any{"fields": exportFields, "format": "CSV",
		"filter": map[string]any{"createdAt": map[string]string{
			"startAt": from.UTC().Format(time.RFC3339), "endAt": to.UTC().Format(time.RFC3339)}}}
	env, err := p.call(ctx, request{op: "create export", method: http.MethodPost, path: "/bulk/v1/leads/export/create.json", body: body})
	if err != nil {
		return "", fmt.Errorf("marketo: creating a bulk lead extract job: %w", err)
	}
	st, err := oneStatus(env, "create export")
	if err != nil {
		return "", err
	}
	if _, err := p.call(ctx, request{op: "enqueue export", method: http.MethodPost, path: "/bulk/v1/leads/export/" + st.ExportID + "/enqueue.json"}); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_, _ = p.call(cctx, request{op: "cancel export", method: http.MethodPost, path: "/bulk/v1/leads/export/" + st.ExportID + "/cancel.json"})
		cancel()
		return "", fmt.Errorf("marketo: enqueuing bulk lead extract job %s: %w", st.ExportID, err)
	}
	return st.ExportID, nil
}

func oneStatus(env *envelope, op string) (exportStatus, error) {
	var sts []exportStatus
	if err := decode(env, op, &sts); err != nil {
		return exportStatus{}, err
	}
	if len(sts) != 1 || sts[0].ExportID == "" {
		return exportStatus{}, adapter.Retryable(fmt.Errorf("marketo %s: %d job records in the answer, want 1", op, len(sts)))
	}
	return sts[0], nil
}

// awaitExport polls a job's status, no more often than poll (Marketo
// updates it at most once a minute), until it completed; a failed or
// cancelled job is an error naming the job, its window and Marketo's
// reason. Failed jobs are not retried here: Marketo says to create the
// job again, which the next pull does from the cursor.
func (p *Plugin) awaitExport(ctx context.Context, j *exportJob, poll time.Duration) (exportStatus, error) {
	for {
		if wait := time.Until(j.polled.Add(poll)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return exportStatus{}, ctx.Err()
			case <-t.C:
			}
		}
		env, err := p.call(ctx, request{op: "export status", method: http.MethodGet, path: "/bulk/v1/leads/export/" + j.id + "/status.json"})
		j.polled = time.Now()
		if err != nil {
			return exportStatus{}, fmt.Errorf("marketo: polling bulk lead extract job %s: %w", j.id, err)
		}
		st, err := oneStatus(env, "export status")
		if err != nil {
			return st, err
		}
		window := fmt.Sprintf("leads created %s to %s", j.from.UTC().Format(time.RFC3339), j.to.UTC().Format(time.RFC3339))
		switch st.Status {
		case "Completed":
			return st, nil
		case "Failed":
			return st, adapter.Retryable(fmt.Errorf("marketo: bulk lead extract job %s (%s) failed: %q; the next pull creates it again", j.id, window, st.ErrorMsg))
		case "Canceled", "Cancelled":
			return st, adapter.Retryable(fmt.Errorf("marketo: bulk lead extract job %s (%s) was cancelled in Marketo; the next pull creates it again", j.id, window))
		case "Created", "Queued", "Processing":
		default:
			return st, adapter.Retryable(fmt.Errorf("marketo: bulk lead extract job %s: unknown status %q", j.id, st.Status))
		}
	}
}

// exportFile downloads a completed job's file, checks its size and
// SHA-256 checksum against the status, and parses its leads.
func (p *Plugin) exportFile(ctx context.Context, id string, st exportStatus) ([]lead, error) {
	data, err := p.download(ctx, "/bulk/v1/leads/export/"+id+"/file.json")
	if err != nil {
		return nil, fmt.Errorf("marketo: downloading bulk lead extract file %s: %w", id, err)
	}
	sum := sha256.Sum256(data)
	if want := strings.TrimPrefix(st.FileChecksum, "sha256:"); (want != "" && want != hex.EncodeToString(sum[:])) || int64(len(data)) != st.FileSize {
		return nil, adapter.Retryable(fmt.Errorf("marketo: bulk lead extract file %s: %d bytes with checksum %x, the job says %d bytes, %s",
			id, len(data), sum, st.FileSize, st.FileChecksum))
	}
	leads, err := parseExport(data)
	if err != nil {
		return nil, adapter.Permanent(fmt.Errorf("marketo: bulk lead extract file %s: %w", id, err))
	}
	if len(leads) != st.NumberOfRecords {
		return nil, adapter.Retryable(fmt.Errorf("marketo: bulk lead extract file %s holds %d leads, the job says %d", id, len(leads), st.NumberOfRecords))
	}
	return leads, nil
}

// download sends a GET whose answer is a file rather than an envelope,
// with the token renewed once if Marketo answers 601 or 602 (as an
// envelope).
func (p *Plugin) download(ctx context.Context, path string) ([]byte, error) {
	p.mu.Lock()
	c, slots, base, tokens := p.client, p.slots, p.base, p.token
	p.mu.Unlock()
	if c == nil {
		return nil, adapter.Permanent(errors.New("marketo: not configured"))
	}
	for attempt := 0; ; attempt++ {
		sent := tokens.current()
		data, ctype, err := fetch(ctx, c.Do, slots, base+path)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(ctype, "json") {
			p.count(false)
			return data, nil
		}
		var env envelope
		if err := json.Unmarshal(data, &env); err != nil {
			return nil, adapter.Retryable(fmt.Errorf("marketo file: decoding the answer: %w", err))
		}
		code := ""
		if len(env.Errors) > 0 {
			code = env.Errors[0].Code
		}
		if (code == "601" || code == "602") && attempt == 0 {
			tokens.invalidate(sent)
			continue
		}
		if env.Success {
			p.count(false)
			return data, nil
		}
		return nil, p.classify("file", code, env.Errors)
	}
}

func fetch(ctx context.Context, do func(context.Context, *http.Request) (*http.Response, error), slots chan struct{}, u string) ([]byte, string, error) {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	defer func() { <-slots }()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", adapter.Permanent(fmt.Errorf("marketo file: building the request: %w", err))
	}
	resp, err := do(ctx, req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", adapter.Retryable(fmt.Errorf("marketo file: reading: %w", err))
	}
	return data, resp.Header.Get("Content-Type"), nil
}

// parseExport reads a CSV export of exportFields: a header row naming
// them, then a lead a row, "null" for an empty value. An empty file
// holds no leads.
func parseExport(data []byte) ([]lead, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, f := range exportFields {
		if _, ok := col[f]; !ok {
			return nil, fmt.Errorf("the header %v has no column %s", head, f)
		}
	}
	var out []lead
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading row %d: %w", len(out)+2, err)
		}
		get := func(f string) string {
			if v := rec[col[f]]; v != "null" {
				return v
			}
			return ""
		}
		var l lead
		if l.ID, err = strconv.Atoi(get("id")); err != nil {
			return nil, fmt.Errorf("row %d: id %q is not a lead id", len(out)+2, get("id"))
		}
		l.Email, l.FirstName, l.LastName = get("email"), get("firstName"), get("lastName")
		for f, dst := range map[string]*time.Time{"createdAt": &l.CreatedAt, "updatedAt": &l.UpdatedAt} {
			if v := get(f); v != "" {
				if *dst, err = time.Parse(time.RFC3339, v); err != nil {
					return nil, fmt.Errorf("row %d: %s %q: %w", len(out)+2, f, v, err)
				}
			}
		}
		out = append(out, l)
	}
}
