// Package mailchimp is an adapter plugin for Mailchimp's Marketing API
// v3, written as a third party would write it: it imports only the
// public SDK (plugins/sdk) and the plain types of packages adapter and
// domain, and cmd/connector-mailchimp serves it with sdk.Serve.
//
// It reads one audience's members as contacts (offset/count paging,
// since_last_changed for incremental pulls), fetches members by
// subscriber hash (the MD5 of the lower-cased email, Mailchimp's member
// id), and writes segment membership back as member tags (POST
// .../members/{subscriber_hash}/tags with status active or inactive) and
// segment values as merge fields (PATCH of the member), never opening
// more than Mailchimp's 10 simultaneous connections; a large write-back
// goes as one batch operation (POST /batches), whose results archive gives
// each member its outcome. Audience
// webhooks (unsigned by Mailchimp, so authenticated by a secret in the
// callback URL) announce members whose subscription changed.
//
// Why no HTTP library: net/http with a semaphore is all the connection
// limit needs, and Mailchimp sends no rate-limit headers to honour.
package mailchimp
