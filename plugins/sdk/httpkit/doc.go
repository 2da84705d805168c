// Package httpkit is the HTTP kit of the plugin SDK: the one client
// factory every platform call goes through, in the built-in connectors and
// in adapter plugins alike. A plugin that implements sdk.Observable hands
// the observer it is given to ObserverHooks, and the host counts its
// requests and rate-limiter waits as it counts a built-in adapter's. It
// is built on hashicorp/go-retryablehttp, which already has the
// pluggable pieces a platform client needs (retry policy, backoff, hooks
// around each attempt, a leveled logger); this package fills them in:
//
//   - a retry policy per failure class: network errors, 429 and 5xx are
//     retried; 4xx auth and validation errors never are (a 401 is retried
//     once, after the Auth refreshes its token, when it can);
//   - reads (GET, HEAD, OPTIONS, or any request whose context went through
//     AsRead) have their answer body read within the attempt, through
//     retryablehttp's response handler, so a connection reset mid-body, a
//     body cut short of its framing or a JSON answer that does not parse
//     is retried under the same policy as a 5xx; writes are never sent
//     again for a broken answer, since the platform may have applied them:
//     their error wraps ErrAnswerUnread and is retryable, never permanent,
//     so the write-back records the attempt as unknown and writes the
//     record's state again;
//   - Retry-After honoured but capped (retryablehttp's own backoffs do not
//     cap it); a 429 asking for a longer wait than the cap is not slept on
//     but returned as adapter.RateLimited so the caller's scheduler waits;
//   - a per-account rate limiter (golang.org/x/time/rate) in front of every
//     attempt, so retries also spend from the budget;
//   - request and response logging through log/slog with secrets redacted
//     (configured secret values and well-known secret query parameters);
//   - typed errors out: every non-2xx answer becomes a *StatusError wrapped
//     in an adapter.Error of the right kind.
//
// Outer loops (reconnects, restarts, polling) use cenkalti/backoff/v4 in
// their own packages; never stack both layers on the same call.
package httpkit
