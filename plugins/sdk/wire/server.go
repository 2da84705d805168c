package wire

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/segconn/connector/plugins/sdk/adapter"
	pb "github.com/segconn/connector/plugins/sdk/proto/connector/v1"
)

// chunkChanges is the most changes one PageChunk carries. With the
// 64 MiB message limit of host and plugin this allows changes of up to
// 256 KiB each, far above any real record, without a sizing pass over the
// data (which would cost as much as encoding it once more).
const chunkChanges = 256

// NewServer wraps an adapter as the gRPC service of protocol 1. Serve uses
// it; it is exported for hosts and test harnesses that run their own
// gRPC server.
// A plugin that implements adapter.Observable is given its observer here,
// before any Configure.
func NewServer(a adapter.Adapter) pb.AdapterServer {
	s := &server{impl: a, obs: &broadcaster{}}
	if o, ok := inner(a).(adapter.Observable); ok {
		o.ObserveHTTP(s.obs)
	}
	return s
}

type server struct {
	pb.UnimplementedAdapterServer
	impl adapter.Adapter
	obs  *broadcaster
}

func decodeConfig(req *pb.ConfigRequest) (adapter.Config, error) {
	var cfg adapter.Config
	if len(req.ConfigJson) == 0 {
		return adapter.Config{}, nil
	}
	if err := json.Unmarshal(req.ConfigJson, &cfg); err != nil {
		return nil, adapter.Permanent(fmt.Errorf("decoding config JSON: %w", err))
	}
	return cfg, nil
}

func (s *server) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	out := descriptorTo(d)
	out.ProtocolMinor = ProtocolMinor
	return out, nil
}

func (s *server) ValidateConfig(ctx context.Context, req *pb.ConfigRequest) (*pb.ValidateConfigResponse, error) {
	cfg, err := decodeConfig(req)
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	ds, err := s.impl.ValidateConfig(ctx, cfg)
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	return &pb.ValidateConfigResponse{Diagnostics: diagnosticsTo(ds)}, nil
}

func (s *server) Configure(ctx context.Context, req *pb.ConfigRequest) (*pb.Empty, error) {
	cfg, err := decodeConfig(req)
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	if err := s.impl.Configure(ctx, cfg); err != nil {
		return nil, toStatus(ctx, err)
	}
	return &pb.Empty{}, nil
}

func (s *server) Pull(req *pb.PullRequest, stream pb.Adapter_PullServer) error {
	ctx := stream.Context()
	r := adapter.PullRequest{Object: req.Object, Cursor: req.Cursor, Full: req.Full, PageSize: int(req.PageSize)}
	err := s.impl.Pull(ctx, r, func(ctx context.Context, p adapter.Page) error {
		return sendPage(ctx, stream, p)
	})
	return toStatus(ctx, err)
}

// sendPage sends one page as one or more chunks.
func sendPage(ctx context.Context, stream pb.Adapter_PullServer, p adapter.Page) error {
	rest := p.Changes
	for len(rest) > chunkChanges {
		chunk := &pb.PageChunk{Changes: changesTo(rest[:chunkChanges]), Continued: true}
		if err := stream.Send(chunk); err != nil {
			return fmt.Errorf("sending page chunk: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rest = rest[chunkChanges:]
	}
	last := &pb.PageChunk{Changes: changesTo(rest), Quarantined: rejectedTo(p.Quarantined), Cursor: p.Cursor}
	if err := stream.Send(last); err != nil {
		return fmt.Errorf("sending page: %w", err)
	}
	return nil
}

func (s *server) Fetch(ctx context.Context, req *pb.FetchRequest) (*pb.FetchResponse, error) {
	cs, err := s.impl.Fetch(ctx, adapter.FetchRequest{Object: req.Object, IDs: req.Ids})
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	return &pb.FetchResponse{Changes: changesTo(cs)}, nil
}

func (s *server) EnsureTargets(ctx context.Context, req *pb.EnsureTargetsRequest) (*pb.EnsureTargetsResponse, error) {
	es, err := s.impl.EnsureTargets(ctx, targetsFrom(req.Targets))
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	return &pb.EnsureTargetsResponse{Targets: ensuredTo(es)}, nil
}

func (s *server) Push(ctx context.Context, req *pb.PushRequest) (*pb.PushResponse, error) {
	rs, err := s.impl.Push(ctx, pushRequestFrom(req))
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	return &pb.PushResponse{Results: pushResultsTo(rs)}, nil
}

func (s *server) VerifyWebhook(ctx context.Context, req *pb.WebhookRequest) (*pb.WebhookResponse, error) {
	res, err := s.impl.VerifyWebhook(ctx, webhookRequestFrom(req))
	if err != nil {
		return nil, toStatus(ctx, err)
	}
	return webhookResultTo(res), nil
}

func (s *server) Close(ctx context.Context, _ *pb.Empty) (*pb.Empty, error) {
	if err := s.impl.Close(ctx); err != nil {
		return nil, toStatus(ctx, err)
	}
	return &pb.Empty{}, nil
}
