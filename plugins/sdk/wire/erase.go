package wire

import (
	"context"
	"errors"
	"fmt"

	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	pb "github.com/segconn/connector/plugins/sdk/proto/connector/v1"
)

// Erase is protocol 1.2: a privacy erasure of one record (adapter.Eraser).
// The outcome "gone" carries adapter.ErrRecordGone across the boundary.

// outcomeGone is EraseResponse.outcome for a record the platform no
// longer has.
const outcomeGone = "gone"

// eraseMinor is the protocol minor version that brought Erase.
const eraseMinor = 2

// Erase implements the 1.2 RPC: the plugin's adapter.Eraser, or an
// unsupported error when it has none.
func (s *server) Erase(ctx context.Context, req *pb.EraseRequest) (*pb.EraseResponse, error) {
	er, ok := inner(s.impl).(adapter.Eraser)
	if !ok {
		if er, ok = s.impl.(adapter.Eraser); !ok {
			return nil, toStatus(ctx, adapter.Permanent(fmt.Errorf("erasing a record: %w", adapter.ErrUnsupported)))
		}
	}
	out, err := er.Erase(ctx, refFrom(req.GetRef()))
	switch {
	case errors.Is(err, adapter.ErrRecordGone):
		return &pb.EraseResponse{Outcome: outcomeGone}, nil
	case err != nil:
		return nil, toStatus(ctx, err)
	}
	return &pb.EraseResponse{Outcome: string(out)}, nil
}

// Erase implements adapter.Eraser for the host. A plugin older than 1.2,
// or one that answers UNIMPLEMENTED, cannot erase: the error wraps
// adapter.ErrUnsupported, which the host records as such rather than
// retrying.
func (c *client) Erase(ctx context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	m, err := c.ProtocolMinor(ctx)
	if err != nil {
		return "", err
	}
	if m < eraseMinor {
		return "", adapter.Permanent(fmt.Errorf("erasing %s: the plugin speaks protocol 1.%d, erasure came with 1.2: %w", ref.Key(), m, adapter.ErrUnsupported))
	}
	resp, err := c.rpc.Erase(ctx, &pb.EraseRequest{Ref: refTo(ref)})
	switch {
	case unimplemented(err):
		return "", adapter.Permanent(fmt.Errorf("erasing %s: the plugin does not implement Erase: %w", ref.Key(), adapter.ErrUnsupported))
	case err != nil:
		return "", fromStatus("erasing "+ref.Key(), err)
	case resp.Outcome == outcomeGone:
		return "", fmt.Errorf("erasing %s: %w", ref.Key(), adapter.ErrRecordGone)
	}
	return adapter.ErasureOutcome(resp.Outcome), nil
}

var _ adapter.Eraser = (*client)(nil)
