package adapter

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an adapter error so the host knows what to do with it.
type Kind int

// Error kinds.
const (
	KindUnknown     Kind = iota // unclassified: treated as retryable
	KindRetryable               // transient: try again later
	KindPermanent               // will fail again: quarantine or surface
	KindAuth                    // credentials missing, invalid or expired
	KindRateLimited             // over budget: wait RetryAfter
)

func (k Kind) String() string {
	switch k {
	case KindRetryable:
		return "retryable"
	case KindPermanent:
		return "permanent"
	case KindAuth:
		return "auth"
	case KindRateLimited:
		return "rate_limited"
	default:
		return "unknown"
	}
}

// Error is a classified adapter error. Match kinds with errors.Is against
// ErrRetryable, ErrPermanent, ErrAuth and ErrRateLimited.
type Error struct {
	Kind       Kind
	RetryAfter time.Duration // for KindRateLimited (and optionally KindRetryable)
	Err        error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Kind.String()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Is matches the kind sentinels.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Err == nil && t.Kind == e.Kind
}

// Kind sentinels for errors.Is.
var (
	ErrRetryable   error = &Error{Kind: KindRetryable}
	ErrPermanent   error = &Error{Kind: KindPermanent}
	ErrAuth        error = &Error{Kind: KindAuth}
	ErrRateLimited error = &Error{Kind: KindRateLimited}
	// ErrBadSignature is wrapped (as KindAuth) when a webhook fails verification.
	ErrBadSignature = errors.New("webhook signature does not verify")
	// ErrUnsupported is returned (as KindPermanent) for an operation or
	// object type the adapter does not offer.
	ErrUnsupported = errors.New("not supported by this adapter")
)

// Retryable classifies err as transient.
func Retryable(err error) error { return &Error{Kind: KindRetryable, Err: err} }

// Permanent classifies err as one that will happen again.
func Permanent(err error) error { return &Error{Kind: KindPermanent, Err: err} }

// Auth classifies err as an authentication or authorisation failure.
func Auth(err error) error { return &Error{Kind: KindAuth, Err: err} }

// RateLimited classifies err as over budget, to be retried after d.
func RateLimited(d time.Duration, err error) error {
	return &Error{Kind: KindRateLimited, RetryAfter: d, Err: err}
}

// Errorf formats an error of the given kind.
func Errorf(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind of the outermost *Error in err's chain, or
// KindUnknown.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// RetryAfterOf returns the retry delay carried by err, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// IsRetryable reports whether the host should try err's operation again.
func IsRetryable(err error) bool {
	switch KindOf(err) {
	case KindPermanent, KindAuth:
		return false
	default:
		return err != nil
	}
}
