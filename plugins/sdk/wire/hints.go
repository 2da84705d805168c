package wire

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/segconn/connector/plugins/sdk/adapter"
	pb "github.com/segconn/connector/plugins/sdk/proto/connector/v1"
)

// ProtocolMinor is the minor version of protocol 1 this package speaks:
// 1.1 adds Hints and WatchHTTP, 1.2 adds Erase. It travels in
// DescribeResponse, not in the handshake, so hosts and plugins of any 1.x
// negotiate version 1 and then use what both know.
const ProtocolMinor = 2

// watchBuffer is how many HTTP events wait for a slow host per watcher
// before new ones are dropped.
const watchBuffer = 1024

// Hints are what a 1.1 plugin tells the host besides its descriptor.
type Hints struct {
	// Pacing is the plugin's write pacing; nil when it has none.
	Pacing *adapter.WritePacing
	// Quota is the platform's daily budget; nil when the plugin reports none.
	Quota *adapter.Quota
}

// Extended is the host's view of a plugin beyond adapter.Adapter: the
// protocol 1.1 calls. The adapter NewClient returns implements it.
type Extended interface {
	adapter.Adapter
	// ProtocolMinor is the minor version the plugin speaks (0 for 1.0),
	// asked with Describe the first time.
	ProtocolMinor(ctx context.Context) (int, error)
	// Hints asks for the plugin's hints; a 1.0 plugin has none.
	Hints(ctx context.Context) (Hints, error)
	// WatchHTTP hands every HTTP report of the plugin to obs until ctx
	// ends or the plugin goes away; it returns at once for a 1.0 plugin.
	WatchHTTP(ctx context.Context, obs adapter.HTTPObserver) error
}

// inner returns what holds a plugin's optional hint methods: the plugin
// inside sdk.Adapt's wrapper, else the adapter itself.
func inner(a adapter.Adapter) any {
	if w, ok := a.(interface{ Inner() any }); ok {
		return w.Inner()
	}
	return a
}

// broadcaster is the HTTPObserver a served plugin is given: it copies each
// report to every WatchHTTP stream open at the time, dropping what a full
// stream cannot take. While no stream is open it keeps the reports, up to
// watchBuffer, for the next stream to open: a host opens its stream to a
// plugin it has just started (or restarted) while its first calls already
// run, and their reports would otherwise be lost, depending on which of
// the two reached the plugin first.
type broadcaster struct {
	mu       sync.Mutex
	watchers map[chan *pb.HTTPEvent]struct{}
	backlog  []*pb.HTTPEvent // reports made while no stream was open
	dropped  atomic.Int64
}

func (b *broadcaster) send(ev *pb.HTTPEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.watchers) == 0 {
		if len(b.backlog) < watchBuffer {
			b.backlog = append(b.backlog, ev)
		} else {
			b.dropped.Add(1)
		}
		return
	}
	for ch := range b.watchers {
		select {
		case ch <- ev:
		default:
			b.dropped.Add(1)
		}
	}
}

// HTTPRequest implements adapter.HTTPObserver.
func (b *broadcaster) HTTPRequest(method string, status int, took time.Duration) {
	b.send(&pb.HTTPEvent{Method: method, Status: int32(status), Took: durTo(took)})
}

// RateWait implements adapter.HTTPObserver.
func (b *broadcaster) RateWait(d time.Duration) {
	if d > 0 {
		b.send(&pb.HTTPEvent{RateWait: durTo(d)})
	}
}

// watch opens a stream, which starts with the reports kept while none was
// open.
func (b *broadcaster) watch() (chan *pb.HTTPEvent, func()) {
	ch := make(chan *pb.HTTPEvent, watchBuffer)
	b.mu.Lock()
	if b.watchers == nil {
		b.watchers = map[chan *pb.HTTPEvent]struct{}{}
	}
	for _, ev := range b.backlog { // at most watchBuffer: it fits
		ch <- ev
	}
	b.backlog = nil
	b.watchers[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.watchers, ch)
		b.mu.Unlock()
	}
}

func (s *server) Hints(ctx context.Context, _ *pb.Empty) (*pb.HintsResponse, error) {
	out := &pb.HintsResponse{}
	h := inner(s.impl)
	if wp, ok := h.(adapter.WritePacer); ok {
		p := wp.WritePacing()
		out.WritePacing = &pb.WritePacing{PropertyEvery: durTo(p.PropertyEvery), MembershipEvery: durTo(p.MembershipEvery),
			MembershipCallEvery: durTo(p.MembershipCallEvery)}
	}
	if qr, ok := h.(adapter.QuotaReporter); ok {
		q := qr.DailyQuota()
		out.Quota = &pb.Quota{Limit: int64(q.Limit), Remaining: int64(q.Remaining)}
	}
	return out, toStatus(ctx, ctx.Err())
}

func (s *server) WatchHTTP(_ *pb.Empty, stream pb.Adapter_WatchHTTPServer) error {
	ch, stop := s.obs.watch()
	defer stop()
	ctx := stream.Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-ch:
			if err := stream.Send(ev); err != nil {
				return fmt.Errorf("sending HTTP report: %w", err)
			}
		}
	}
}

// unimplemented reports a 1.0 plugin's answer to a 1.1 call.
func unimplemented(err error) bool {
	return status.Code(err) == codes.Unimplemented
}

func (c *client) ProtocolMinor(ctx context.Context) (int, error) {
	if m := c.minor.Load(); m >= 0 {
		return int(m), nil
	}
	if _, err := c.Describe(ctx); err != nil {
		return 0, err
	}
	return int(c.minor.Load()), nil
}

func (c *client) Hints(ctx context.Context) (Hints, error) {
	if m, err := c.ProtocolMinor(ctx); err != nil || m < 1 {
		return Hints{}, err
	}
	resp, err := c.rpc.Hints(ctx, &pb.Empty{})
	if unimplemented(err) {
		return Hints{}, nil
	}
	if err != nil {
		return Hints{}, fromStatus("asking plugin for hints", err)
	}
	var h Hints
	if p := resp.WritePacing; p != nil {
		h.Pacing = &adapter.WritePacing{PropertyEvery: durFrom(p.PropertyEvery), MembershipEvery: durFrom(p.MembershipEvery),
			MembershipCallEvery: durFrom(p.MembershipCallEvery)}
	}
	if q := resp.Quota; q != nil {
		h.Quota = &adapter.Quota{Limit: int(q.Limit), Remaining: int(q.Remaining)}
	}
	return h, nil
}

func (c *client) WatchHTTP(ctx context.Context, obs adapter.HTTPObserver) error {
	if m, err := c.ProtocolMinor(ctx); err != nil || m < 1 {
		return err
	}
	stream, err := c.rpc.WatchHTTP(ctx, &pb.Empty{})
	if err != nil {
		return fromStatus("watching plugin HTTP requests", err)
	}
	for {
		ev, err := stream.Recv()
		switch {
		case err == nil:
		case unimplemented(err):
			return nil
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, context.Canceled):
			return nil
		default:
			return fromStatus("watching plugin HTTP requests", err)
		}
		if ev.RateWait != nil {
			obs.RateWait(durFrom(ev.RateWait))
			continue
		}
		obs.HTTPRequest(ev.Method, int(ev.Status), durFrom(ev.Took))
	}
}

// NewServer10 serves a exactly as a plugin built against protocol 1.0
// does: it leaves protocol_minor unset and answers Hints and WatchHTTP
// with UNIMPLEMENTED, whatever a implements. It exists for compatibility
// tests of hosts (see GRPCPlugin.Service).
func NewServer10(a adapter.Adapter) pb.AdapterServer {
	return server10{full: &server{impl: a, obs: &broadcaster{}}}
}

// server10 has the nine RPCs of protocol 1.0 and no others.
type server10 struct {
	pb.UnimplementedAdapterServer
	full *server
}

func (s server10) Describe(ctx context.Context, r *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	out, err := s.full.Describe(ctx, r)
	if out != nil {
		out.ProtocolMinor = 0
	}
	return out, err
}
func (s server10) ValidateConfig(ctx context.Context, r *pb.ConfigRequest) (*pb.ValidateConfigResponse, error) {
	return s.full.ValidateConfig(ctx, r)
}
func (s server10) Configure(ctx context.Context, r *pb.ConfigRequest) (*pb.Empty, error) {
	return s.full.Configure(ctx, r)
}
func (s server10) Pull(r *pb.PullRequest, stream pb.Adapter_PullServer) error {
	return s.full.Pull(r, stream)
}
func (s server10) Fetch(ctx context.Context, r *pb.FetchRequest) (*pb.FetchResponse, error) {
	return s.full.Fetch(ctx, r)
}
func (s server10) EnsureTargets(ctx context.Context, r *pb.EnsureTargetsRequest) (*pb.EnsureTargetsResponse, error) {
	return s.full.EnsureTargets(ctx, r)
}
func (s server10) Push(ctx context.Context, r *pb.PushRequest) (*pb.PushResponse, error) {
	return s.full.Push(ctx, r)
}
func (s server10) VerifyWebhook(ctx context.Context, r *pb.WebhookRequest) (*pb.WebhookResponse, error) {
	return s.full.VerifyWebhook(ctx, r)
}
func (s server10) Close(ctx context.Context, r *pb.Empty) (*pb.Empty, error) {
	return s.full.Close(ctx, r)
}

// NewServer11 serves a exactly as a plugin built against protocol 1.1
// does: it reports minor version 1 and answers Erase with UNIMPLEMENTED,
// whatever a implements. It exists for compatibility tests of hosts.
func NewServer11(a adapter.Adapter) pb.AdapterServer {
	return server11{NewServer(a).(*server)}
}

// server11 has the RPCs of protocol 1.1 and no others.
type server11 struct{ *server }

func (s server11) Describe(ctx context.Context, r *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	out, err := s.server.Describe(ctx, r)
	if out != nil {
		out.ProtocolMinor = 1
	}
	return out, err
}

func (s server11) Erase(context.Context, *pb.EraseRequest) (*pb.EraseResponse, error) {
	return nil, status.Error(codes.Unimplemented, "method Erase not implemented")
}
