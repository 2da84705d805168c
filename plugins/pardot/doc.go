// Package pardot is an adapter plugin for Salesforce Marketing Cloud
// Account Engagement (formerly Pardot) API v5, written as a third party
// would write it: it imports only the public SDK (plugins/sdk and its
// HTTP kit plugins/sdk/httpkit) and the plain types of packages adapter
// and domain, and cmd/connector-pardot serves it with sdk.Serve.
//
// It signs in with Salesforce OAuth (a refresh token, renewed when a call
// answers 401) and sends the business unit in the
// Pardot-Business-Unit-Id header. It reads prospects as contacts
// (GET /api/v5/objects/prospects ordered by updatedAt and id, 1000 a
// page, paged through nextPageUrl; a later pull starts at the last
// updatedAt seen and skips the prospects of that second already
// delivered, so same-second updates are neither lost nor repeated), with
// score and grade as attributes, chosen custom fields as attributes, and
// email opens, email clicks, page views and form-handler submissions
// from visitor activities as engagement attributes. It writes segments
// back as custom prospect fields (PATCH by id, or the
// upsertLatestByEmail action for a reference that is an email) and as
// static list membership (POST and DELETE of list-memberships, one a
// call, as v5 has no batch form). It erases a person (protocol 1.2) by
// deleting the prospect, which Account Engagement moves to its recycle
// bin.
//
// At most five requests are in flight at once (the documented concurrent
// limit); code 66 is retried, and code 122 (the daily quota spent) stops
// the plugin's calls until the next UTC midnight with a rate-limited
// error that says when.
package pardot
