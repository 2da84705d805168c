package wire

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/segconn/connector/plugins/sdk/adapter"
	pb "github.com/segconn/connector/plugins/sdk/proto/connector/v1"
)

// Typed errors cross the process boundary as a gRPC status whose code is
// chosen from the adapter.Kind (for clients that ignore details) and whose
// details carry an ErrorDetail with the exact kind, RetryAfter and the
// sentinel errors the host matches with errors.Is.

func codeOf(k adapter.Kind) codes.Code {
	switch k {
	case adapter.KindRetryable:
		return codes.Unavailable
	case adapter.KindPermanent:
		return codes.FailedPrecondition
	case adapter.KindAuth:
		return codes.Unauthenticated
	case adapter.KindRateLimited:
		return codes.ResourceExhausted
	default:
		return codes.Unknown
	}
}

func kindOfCode(c codes.Code) adapter.Kind {
	switch c {
	case codes.Unavailable, codes.Aborted, codes.Internal:
		return adapter.KindRetryable
	case codes.FailedPrecondition, codes.InvalidArgument, codes.NotFound, codes.Unimplemented, codes.OutOfRange, codes.AlreadyExists:
		return adapter.KindPermanent
	case codes.Unauthenticated, codes.PermissionDenied:
		return adapter.KindAuth
	case codes.ResourceExhausted:
		return adapter.KindRateLimited
	default:
		return adapter.KindUnknown
	}
}

// ErrTransport is wrapped by errors of the connection to the plugin
// rather than of the adapter: the process died or the connection broke.
// The host restarts the plugin and retries when it sees it.
var ErrTransport = errors.New("plugin connection lost")

// toStatus turns an adapter error into a gRPC status error. When the
// call's own context has ended and err stems from that, the status says
// Canceled or DeadlineExceeded, whatever kind the adapter gave it.
func toStatus(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && errors.Is(err, cerr) {
		if cerr == context.Canceled {
			return status.Error(codes.Canceled, err.Error())
		}
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	var ae *adapter.Error
	if !errors.As(err, &ae) {
		switch {
		case errors.Is(err, context.Canceled):
			return status.Error(codes.Canceled, err.Error())
		case errors.Is(err, context.DeadlineExceeded):
			return status.Error(codes.DeadlineExceeded, err.Error())
		}
	}
	kind := adapter.KindOf(err)
	st := status.New(codeOf(kind), err.Error())
	detail := &pb.ErrorDetail{
		Kind:         pb.ErrorKind(kind),
		RetryAfter:   durTo(adapter.RetryAfterOf(err)),
		BadSignature: errors.Is(err, adapter.ErrBadSignature),
		Unsupported:  errors.Is(err, adapter.ErrUnsupported),
	}
	if withDetail, derr := st.WithDetails(detail); derr == nil {
		st = withDetail
	}
	return st.Err()
}

// remoteError is the message of an error raised in the plugin process,
// unwrapping to the sentinel it carried.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

// fromStatus turns an error returned by a gRPC call into an adapter error
// of the same kind as the one the plugin returned. Errors of the transport
// itself (the plugin died, the connection broke) come back as retryable.
func fromStatus(op string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("%s: %s: %w", op, st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %s: %w", op, st.Message(), context.DeadlineExceeded)
	}
	for _, d := range st.Details() {
		detail, ok := d.(*pb.ErrorDetail)
		if !ok {
			continue
		}
		re := &remoteError{msg: st.Message()}
		switch {
		case detail.BadSignature:
			re.sentinel = adapter.ErrBadSignature
		case detail.Unsupported:
			re.sentinel = adapter.ErrUnsupported
		}
		return fmt.Errorf("%s: %w", op, &adapter.Error{Kind: adapter.Kind(detail.Kind), RetryAfter: durFrom(detail.RetryAfter), Err: re})
	}
	re := &remoteError{msg: st.Code().String() + ": " + st.Message()}
	if st.Code() == codes.Unavailable {
		re.sentinel = ErrTransport
	}
	return fmt.Errorf("%s: %w", op, &adapter.Error{Kind: kindOfCode(st.Code()), Err: re})
}
