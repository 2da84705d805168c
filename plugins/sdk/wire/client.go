package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"google.golang.org/grpc"

	"github.com/segconn/connector/plugins/sdk/adapter"
	pb "github.com/segconn/connector/plugins/sdk/proto/connector/v1"
)

// NewClient returns an adapter.Adapter that calls a plugin over conn. The
// host uses it through GRPCPlugin; every call carries its context, so
// cancelling it cancels the work in the plugin process.
// The adapter it returns also implements Extended.
func NewClient(conn grpc.ClientConnInterface) adapter.Adapter {
	c := &client{rpc: pb.NewAdapterClient(conn)}
	c.minor.Store(-1)
	return c
}

type client struct {
	rpc pb.AdapterClient
	// minor is the plugin's protocol minor version, -1 until Describe.
	minor atomic.Int32
}

var _ Extended = (*client)(nil)

func encodeConfig(cfg adapter.Config) (*pb.ConfigRequest, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, adapter.Permanent(fmt.Errorf("encoding config as JSON: %w", err))
	}
	return &pb.ConfigRequest{ConfigJson: b}, nil
}

func (c *client) Describe(ctx context.Context) (adapter.Descriptor, error) {
	resp, err := c.rpc.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return adapter.Descriptor{}, fromStatus("describing plugin adapter", err)
	}
	c.minor.Store(resp.ProtocolMinor)
	return descriptorFrom(resp), nil
}

func (c *client) ValidateConfig(ctx context.Context, cfg adapter.Config) ([]adapter.Diagnostic, error) {
	req, err := encodeConfig(cfg)
	if err != nil {
		return nil, err
	}
	resp, err := c.rpc.ValidateConfig(ctx, req)
	if err != nil {
		return nil, fromStatus("validating plugin config", err)
	}
	return diagnosticsFrom(resp.Diagnostics), nil
}

func (c *client) Configure(ctx context.Context, cfg adapter.Config) error {
	req, err := encodeConfig(cfg)
	if err != nil {
		return err
	}
	if _, err := c.rpc.Configure(ctx, req); err != nil {
		return fromStatus("configuring plugin adapter", err)
	}
	return nil
}

// errMidPage reports a stream that ended inside a page.
var errMidPage = errors.New("pull stream ended in the middle of a page")

func (c *client) Pull(ctx context.Context, req adapter.PullRequest, sink adapter.PageSink) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the plugin's pull when the sink gives up
	stream, err := c.rpc.Pull(ctx, &pb.PullRequest{Object: req.Object, Cursor: req.Cursor, Full: req.Full, PageSize: int64(req.PageSize)})
	if err != nil {
		return fromStatus("pulling "+req.Object+" from plugin", err)
	}
	var page adapter.Page
	partial := false
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			if partial {
				return adapter.Retryable(fmt.Errorf("pulling %s from plugin: %w: %w", req.Object, errMidPage, ErrTransport))
			}
			return nil
		}
		if err != nil {
			return fromStatus("pulling "+req.Object+" from plugin", err)
		}
		if len(chunk.Changes) > 0 {
			if page.Changes == nil {
				page.Changes = make([]adapter.Change, 0, len(chunk.Changes))
			}
			for _, p := range chunk.Changes {
				page.Changes = append(page.Changes, changeFrom(p))
			}
		}
		page.Quarantined = append(page.Quarantined, rejectedFrom(chunk.Quarantined)...)
		if chunk.Continued {
			partial = true
			continue
		}
		page.Cursor = chunk.Cursor
		// The plugin may run ahead of the sink; a cancelled pull must not
		// deliver the pages it had already sent.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("pulling %s from plugin: %w", req.Object, context.Cause(ctx))
		}
		if err := sink(ctx, page); err != nil {
			return err
		}
		page, partial = adapter.Page{}, false
	}
}

func (c *client) Fetch(ctx context.Context, req adapter.FetchRequest) ([]adapter.Change, error) {
	resp, err := c.rpc.Fetch(ctx, &pb.FetchRequest{Object: req.Object, Ids: req.IDs})
	if err != nil {
		return nil, fromStatus("fetching "+req.Object+" from plugin", err)
	}
	return changesFrom(resp.Changes), nil
}

func (c *client) EnsureTargets(ctx context.Context, targets []adapter.Target) ([]adapter.EnsuredTarget, error) {
	resp, err := c.rpc.EnsureTargets(ctx, &pb.EnsureTargetsRequest{Targets: targetsTo(targets)})
	if err != nil {
		return nil, fromStatus("ensuring plugin targets", err)
	}
	return ensuredFrom(resp.Targets), nil
}

func (c *client) Push(ctx context.Context, req adapter.PushRequest) ([]adapter.PushResult, error) {
	resp, err := c.rpc.Push(ctx, pushRequestTo(req))
	if err != nil {
		return nil, fromStatus("pushing to plugin", err)
	}
	return pushResultsFrom(resp.Results), nil
}

func (c *client) VerifyWebhook(ctx context.Context, req adapter.WebhookRequest) (adapter.WebhookResult, error) {
	resp, err := c.rpc.VerifyWebhook(ctx, webhookRequestTo(req))
	if err != nil {
		return adapter.WebhookResult{}, fromStatus("verifying webhook in plugin", err)
	}
	return webhookResultFrom(resp), nil
}

func (c *client) Close(ctx context.Context) error {
	if _, err := c.rpc.Close(ctx, &pb.Empty{}); err != nil {
		return fromStatus("closing plugin adapter", err)
	}
	return nil
}
