package marketofake

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Bulk lead extract ("Bulk Extract" and "Bulk Lead Extract" of the
// developer guides; operations createExportLeadsUsingPOST,
// enqueueExportLeadsUsingPOST, getExportLeadsStatusUsingGET,
// getExportLeadsFileUsingGET and cancelExportLeadsUsingPOST of
// swagger-mapi.json):
//   - a job is created with the fields, a format (CSV by default) and one
//     filter; createdAt and updatedAt take a range {startAt, endAt} of at
//     most 31 days; the filters the fake does not model (smart lists)
//     answer 1035, as a subscription without them does;
//   - a created job is enqueued; at most 10 jobs are queued or
//     processing (1029 "Too many jobs in queue") and at most 2 process at
//     once; the status is one of Created, Queued, Processing, Completed,
//     Failed, Canceled (the cancel example answers "Cancelled");
//   - a completed job's file is served whole, in its format, with "null"
//     for an empty field; its fileSize and fileChecksum (sha256:…) are in
//     the status; the file of a job not completed is a plain-text 404;
//   - the files of a day count against a daily export allocation of
//     500 MB; past it, creating or enqueuing a job answers 1029 "Export
//     daily quota exceeded".
//
// A real job takes minutes and its status changes at most once a minute.
// Here a job moves on when a status is asked: every status call is one
// step of the queue, in which the jobs processing complete (or fail, see
// FailExports) and queued jobs start, two at most.

// Export limits of the guides.
const (
	MaxExportsProcessing = 2
	MaxExportsQueued     = 10 // queued and processing together
	ExportDailyBytes     = 500 << 20
	MaxExportSpan        = 31 * 24 * time.Hour
)

// Export job states.
const (
	ExportCreated    = "Created"
	ExportQueued     = "Queued"
	ExportProcessing = "Processing"
	ExportCompleted  = "Completed"
	ExportFailed     = "Failed"
	ExportCancelled  = "Cancelled"
)

// exportQueue is the instance's bulk export jobs.
type exportQueue struct {
	jobs          []*exportJob
	bytesToday    int // size of the files completed today
	quota         int // daily export allocation in bytes; 0: ExportDailyBytes
	failNext      []string
	maxProcessing int // most jobs seen processing at once
	maxInQueue    int // most jobs seen queued or processing at once
}

type exportJob struct {
	id                                 string
	status                             string
	fields                             []string
	headers                            map[string]string
	format                             string
	filter                             string // createdAt, updatedAt or staticListId
	from, to                           time.Time
	list                               int
	created, queued, started, finished time.Time
	file                               []byte
	records                            int
	errorMsg                           string
	checksum                           string
}

func (j *exportJob) result() map[string]any {
	m := map[string]any{"exportId": j.id, "status": j.status, "format": j.format,
		"createdAt": j.created.UTC().Format(time.RFC3339)}
	for k, t := range map[string]time.Time{"queuedAt": j.queued, "startedAt": j.started, "finishedAt": j.finished} {
		if !t.IsZero() {
			m[k] = t.UTC().Format(time.RFC3339)
		}
	}
	switch j.status {
	case ExportCompleted:
		m["numberOfRecords"] = j.records
		m["fileSize"] = len(j.file)
		m["fileChecksum"] = j.checksum
	case ExportFailed:
		m["errorMsg"] = j.errorMsg
	}
	return m
}

func (q *exportQueue) limit() int {
	if q.quota > 0 {
		return q.quota
	}
	return ExportDailyBytes
}

func (q *exportQueue) find(id string) *exportJob {
	for _, j := range q.jobs {
		if j.id == id {
			return j
		}
	}
	return nil
}

func (q *exportQueue) count(states ...string) int {
	n := 0
	for _, j := range q.jobs {
		if slices.Contains(states, j.status) {
			n++
		}
	}
	return n
}

type dateRange struct {
	StartAt string `json:"startAt"`
	EndAt   string `json:"endAt"`
}

// createExport is Create Export Lead Job.
func (f *Fake) createExport(_ *http.Request, body []byte) envelope {
	var req struct {
		Fields            []string          `json:"fields"`
		Format            string            `json:"format"`
		ColumnHeaderNames map[string]string `json:"columnHeaderNames"`
		Filter            map[string]json.RawMessage
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return callError("609", "Invalid JSON")
	}
	if len(req.Fields) == 0 {
		return callError("1003", "fields is required")
	}
	for _, fl := range req.Fields {
		if !f.knownField(fl) {
			return callError("1006", fmt.Sprintf("Field '%s' not found", fl))
		}
	}
	if req.Format == "" {
		req.Format = "CSV"
	}
	if req.Format != "CSV" && req.Format != "TSV" && req.Format != "SSV" {
		return callError("1003", fmt.Sprintf("Invalid format '%s'", req.Format))
	}
	if len(req.Filter) != 1 {
		return callError("1003", "Exactly one filter type must be given")
	}
	if f.exports.bytesToday >= f.exports.limit() {
		return callError("1029", "Export daily quota exceeded")
	}
	j := &exportJob{id: randHex(4) + "-" + randHex(2) + "-" + randHex(2) + "-" + randHex(2) + "-" + randHex(6),
		status: ExportCreated, fields: req.Fields, headers: req.ColumnHeaderNames, format: req.Format, created: time.Now()}
	for kind, raw := range req.Filter {
		j.filter = kind
		switch kind {
		case "createdAt", "updatedAt":
			var dr dateRange
			if err := json.Unmarshal(raw, &dr); err != nil {
				return callError("1003", "Invalid "+kind+" filter")
			}
			from, err1 := time.Parse(time.RFC3339, dr.StartAt)
			to, err2 := time.Parse(time.RFC3339, dr.EndAt)
			if err1 != nil || err2 != nil || to.Before(from) {
				return callError("1003", "Invalid "+kind+" range: startAt and endAt must be ISO-8601 datetimes, in order")
			}
			if to.Sub(from) > MaxExportSpan {
				return callError("1003", "Date range of "+kind+" exceeds 31 days")
			}
			j.from, j.to = from, to
		case "staticListId":
			if err := json.Unmarshal(raw, &j.list); err != nil {
				return callError("1003", "Invalid staticListId")
			}
		case "smartListId", "smartListName", "staticListName":
			return callError("1035", "Unsupported filter type for target subscription")
		default:
			return callError("1003", fmt.Sprintf("Invalid filter type '%s'", kind))
		}
	}
	f.exports.jobs = append(f.exports.jobs, j)
	return envelope{Result: []any{j.result()}}
}

// enqueueExport is Enqueue Export Lead Job: the job must be Created.
func (f *Fake) enqueueExport(r *http.Request, _ []byte) envelope {
	j := f.exports.find(r.PathValue("exportId"))
	switch {
	case j == nil:
		return callError("1003", "Export job not found")
	case j.status != ExportCreated:
		return callError("1003", fmt.Sprintf("Export job is %s, not Created", j.status))
	case f.exports.count(ExportQueued, ExportProcessing) >= MaxExportsQueued:
		return callError("1029", "Too many jobs in queue")
	case f.exports.bytesToday >= f.exports.limit():
		return callError("1029", "Export daily quota exceeded")
	}
	j.status, j.queued = ExportQueued, time.Now()
	f.exports.maxInQueue = max(f.exports.maxInQueue, f.exports.count(ExportQueued, ExportProcessing))
	return envelope{Result: []any{j.result()}}
}

// exportStatus is Get Export Lead Job Status, after one step of the
// queue.
func (f *Fake) exportStatus(r *http.Request, _ []byte) envelope {
	f.stepExports()
	j := f.exports.find(r.PathValue("exportId"))
	if j == nil {
		return callError("1003", "Export job not found")
	}
	return envelope{Result: []any{j.result()}}
}

// stepExports completes (or fails) the jobs processing and starts queued
// ones, in the order they were enqueued, two at most processing.
func (f *Fake) stepExports() {
	q := &f.exports
	for _, j := range q.jobs {
		if j.status != ExportProcessing {
			continue
		}
		j.finished = time.Now()
		if len(q.failNext) > 0 {
			j.status, j.errorMsg = ExportFailed, q.failNext[0]
			q.failNext = q.failNext[1:]
			continue
		}
		j.file, j.records = f.exportRows(j)
		sum := sha256.Sum256(j.file)
		j.status, j.checksum = ExportCompleted, "sha256:"+hex.EncodeToString(sum[:])
		q.bytesToday += len(j.file)
	}
	for _, j := range q.jobs {
		if j.status == ExportQueued && q.count(ExportProcessing) < MaxExportsProcessing {
			j.status, j.started = ExportProcessing, time.Now()
		}
	}
	q.maxProcessing = max(q.maxProcessing, q.count(ExportProcessing))
}

// exportRows renders the leads a job selects in its format: a header of
// the field names (or their columnHeaderNames), then one row a lead,
// "null" for an empty value ("Bulk Lead Extract", Retrieving Your Data).
func (f *Fake) exportRows(j *exportJob) ([]byte, int) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	switch j.format {
	case "TSV":
		w.Comma = '\t'
	case "SSV":
		w.Comma = ';'
	}
	head := make([]string, len(j.fields))
	for i, fl := range j.fields {
		head[i] = fl
		if h := j.headers[fl]; h != "" {
			head[i] = h
		}
	}
	_ = w.Write(head)
	n := 0
	for _, l := range f.leads {
		switch j.filter {
		case "createdAt":
			if l.CreatedAt.Before(j.from) || l.CreatedAt.After(j.to) {
				continue
			}
		case "updatedAt":
			if l.UpdatedAt.Before(j.from) || l.UpdatedAt.After(j.to) {
				continue
			}
		case "staticListId":
			if !f.inList(j.list, l.ID) {
				continue
			}
		}
		rec := l.record(j.fields)
		row := make([]string, len(j.fields))
		for i, fl := range j.fields {
			row[i] = "null"
			switch v := rec[fl].(type) {
			case string:
				if v != "" {
					row[i] = v
				}
			case int:
				row[i] = strconv.Itoa(v)
			}
		}
		_ = w.Write(row)
		n++
	}
	w.Flush()
	return b.Bytes(), n
}

func (f *Fake) inList(list, lead int) bool {
	for _, l := range f.lists {
		if l.ID == list {
			return l.Members[lead]
		}
	}
	return false
}

// exportFile is Get Export Lead File: the whole file of a completed job;
// a job not completed, or an unknown id, is a plain-text 404 ("Bulk
// Extract", Retrieving Your Data). The Range header is not served.
func (f *Fake) exportFile(r *http.Request, _ []byte) envelope {
	j := f.exports.find(r.PathValue("exportId"))
	if j == nil || j.status != ExportCompleted {
		return envelope{rawStatus: http.StatusNotFound, rawType: "text/plain;charset=UTF-8", raw: []byte("File not found")}
	}
	ctype := "text/csv;charset=UTF-8"
	if j.format != "CSV" {
		ctype = "text/plain;charset=UTF-8"
	}
	return envelope{rawStatus: http.StatusOK, rawType: ctype, raw: j.file}
}

// cancelExport is Cancel Export Lead Job.
func (f *Fake) cancelExport(r *http.Request, _ []byte) envelope {
	j := f.exports.find(r.PathValue("exportId"))
	if j == nil {
		return callError("1003", "Export job not found")
	}
	if j.status == ExportCreated || j.status == ExportQueued || j.status == ExportProcessing {
		j.status = ExportCancelled
	}
	return envelope{Result: []any{j.result()}}
}

// FailExports makes the next n export jobs to finish processing fail
// with reason as their errorMsg.
func (f *Fake) FailExports(n int, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.exports.failNext = append(f.exports.failNext, reason)
	}
}

// SetExportQuota sets the daily export allocation in bytes and how much
// of it is spent.
func (f *Fake) SetExportQuota(limit, used int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exports.quota, f.exports.bytesToday = limit, used
}

// ExportStats is what the fake's bulk export queue saw.
type ExportStats struct {
	Jobs          int            // jobs created
	ByStatus      map[string]int // jobs by their status now
	Bytes         int            // export allocation spent today
	MaxProcessing int            // most jobs processing at once
	MaxInQueue    int            // most jobs queued or processing at once
	LongestSpan   time.Duration  // widest date range of a job
}

// Exports returns what the fake's bulk export queue saw.
func (f *Fake) Exports() ExportStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := ExportStats{Jobs: len(f.exports.jobs), ByStatus: map[string]int{}, Bytes: f.exports.bytesToday,
		MaxProcessing: f.exports.maxProcessing, MaxInQueue: f.exports.maxInQueue}
	for _, j := range f.exports.jobs {
		s.ByStatus[j.status]++
		s.LongestSpan = max(s.LongestSpan, j.to.Sub(j.from))
	}
	return s
}
