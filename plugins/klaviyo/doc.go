// Package klaviyo is an adapter plugin for Klaviyo's REST API (revision
// 2026-07-15), written as a third party would write it: it imports only
// the public SDK (plugins/sdk and its HTTP kit plugins/sdk/httpkit) and
// the plain types of packages adapter and domain, and
// cmd/connector-klaviyo serves it with sdk.Serve.
//
// It reads profiles as contacts (GET /api/profiles sorted by updated,
// paged through links.next; a later pull filters on updated), with their
// email marketing consent as the contact's consent and their Opened Email
// and Clicked Email events as engagement. It writes segments back as
// custom profile properties (POST /api/profile-import for a few
// profiles, bulk import jobs for many) and as list membership (POST and
// DELETE /api/lists/{id}/relationships/profiles, 1000 profiles a call).
// It erases a person with Klaviyo's Data Privacy API.
//
// Every operation has its own rate budget, sized from Klaviyo's
// per-operation burst and steady limits so that neither window is ever
// exceeded; a 429 is retried after its Retry-After by the HTTP kit.
package klaviyo
