// Package marketo is an adapter plugin for Marketo Engage's REST API,
// written as a third party would write it: it imports only the public
// SDK (plugins/sdk and its HTTP kit plugins/sdk/httpkit) and the plain
// types of packages adapter and domain, and cmd/connector-marketo serves
// it with sdk.Serve.
//
// It authenticates with the identity service's client-credentials grant
// and renews the token before it expires and whenever Marketo answers 601
// (invalid) or 602 (expired). It reads leads as contacts incrementally:
// a paging token from /rest/v1/activities/pagingtoken.json starts a read
// of the lead changes (/rest/v1/activities/leadchanges.json, New Lead and
// Change Data Value activities), whose leads are then read by id
// (/rest/v1/leads.json, filterType id); the last nextPageToken is the
// cursor. With bulk_extract, a first pull reads the leads with bulk lead
// extract jobs (/bulk/v1/leads/export/…, 31 days of creation dates a
// job, two at a time) instead. Open Email, Click Email, Visit Webpage
// and Fill Out Form activities are read as engagement attributes. It writes segments back
// as custom lead fields (Sync Leads, updateOnly by id, 300 leads a call)
// and as static list membership (300 leads a call). It erases a person
// (protocol 1.2) with Delete Leads.
//
// Marketo answers errors with HTTP 200 and success:false: 606 (more than
// 100 calls in 20 s) and 615 (more than 10 concurrent calls) become
// rate-limited errors with their wait, 607 (daily quota spent) a
// rate-limited error lasting until the quota resets at midnight Central
// time. The plugin paces itself under both limits and reports the daily
// quota and its pacing to the host.
package marketo
