// Package alert tells people when something breaks, and again when it
// recovers: a platform failing for longer than a grace period, write-back
// failures above a share, a segment changing size by more than a share,
// a failed run, a growing dead-letter queue.
//
// The daemon hands a [Monitor] a [Snapshot] of the product's state on
// every tick; [Rules] turn it into the conditions that hold now, and the
// monitor sends each condition once when it starts (after its grace
// period) and once when it clears, to every configured [Notifier]:
// Slack (an incoming webhook with Block Kit blocks), email (SMTP,
// STARTTLS required unless explicitly allowed for a local relay) and a generic
// webhook signed like the outbound segment events (X-Connector-Signature,
// HMAC-SHA256 over timestamp and body), so one verifier serves both.
//
// A notifier that fails is retried on the next tick: the monitor marks a
// condition as sent only for the notifiers that accepted it, so an
// outage of Slack does not lose the alert and does not repeat it on the
// notifiers that already have it. The state is in memory: after a restart
// a condition still holding is sent again, which errs on the side of
// telling someone.
//
// Email goes through the standard library's net/smtp, which is frozen
// but complete for submission with STARTTLS and PLAIN auth; the tests run
// a real SMTP server (emersion/go-smtp, the maintained Go SMTP server
// library) with TLS on loopback.
package alert
