package wire_test

import (
	"context"
	"errors"
	"testing"

	"github.com/segconn/connector/plugins/sdk"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
	"github.com/segconn/connector/plugins/sdk/wire"
)

// erasing is a read-only plugin that opts into erasure: it deletes the
// records it holds and has nothing for the others.
type erasing struct {
	hinted
	held   map[string]bool
	erased []string
}

func (e *erasing) Erase(_ context.Context, ref domain.ExternalRef) (adapter.ErasureOutcome, error) {
	if !e.held[ref.ID] {
		return "", adapter.Permanent(errors.Join(adapter.ErrRecordGone, errors.New("no such member")))
	}
	delete(e.held, ref.ID)
	e.erased = append(e.erased, ref.Key())
	return adapter.ErasureAnonymised, nil
}

// TestEraseCrossesTheProtocol: a 1.2 plugin's Erase reaches it with the
// record, its outcome comes back, and a record it no longer has comes
// back as adapter.ErrRecordGone.
func TestEraseCrossesTheProtocol(t *testing.T) {
	p := &erasing{held: map[string]bool{"m1": true}}
	c := over(t, &wire.GRPCPlugin{Impl: sdk.Adapt(p)})
	er, ok := c.(adapter.Eraser)
	if !ok {
		t.Fatal("the host's client does not offer adapter.Eraser")
	}
	ref := domain.ExternalRef{Platform: "hinted", Account: "acct", ObjectType: domain.ObjectContact, ID: "m1"}
	out, err := er.Erase(context.Background(), ref)
	if err != nil || out != adapter.ErasureAnonymised {
		t.Fatalf("Erase = %q, %v; want anonymised", out, err)
	}
	if len(p.erased) != 1 || p.erased[0] != ref.Key() {
		t.Fatalf("the plugin erased %v; want %s", p.erased, ref.Key())
	}
	if _, err := er.Erase(context.Background(), ref); !errors.Is(err, adapter.ErrRecordGone) {
		t.Fatalf("erasing it again: %v; want ErrRecordGone", err)
	}
}

// TestOlderPluginsCannotErase: a plugin without Erase, a 1.1 plugin and a
// 1.0 plugin all answer "unsupported", a permanent error, never a
// retryable one; the older ones are never even asked.
func TestOlderPluginsCannotErase(t *testing.T) {
	ref := domain.ExternalRef{Platform: "hinted", ObjectType: domain.ObjectContact, ID: "m1"}
	cases := map[string]*wire.GRPCPlugin{
		"1.2 without Erase": {Impl: sdk.Adapt(&hinted{})},
		"1.1":               {Impl: sdk.Adapt(&erasing{held: map[string]bool{"m1": true}}), Service: wire.NewServer11},
		"1.0":               {Impl: sdk.Adapt(&erasing{held: map[string]bool{"m1": true}}), Service: wire.NewServer10},
	}
	for name, gp := range cases {
		t.Run(name, func(t *testing.T) {
			c := over(t, gp)
			_, err := c.(adapter.Eraser).Erase(context.Background(), ref)
			if !errors.Is(err, adapter.ErrUnsupported) || adapter.KindOf(err) != adapter.KindPermanent {
				t.Fatalf("Erase: %v (kind %v); want a permanent ErrUnsupported", err, adapter.KindOf(err))
			}
			if e, ok := inner(gp).(*erasing); ok && len(e.erased) > 0 {
				t.Fatalf("an older plugin was asked to erase %v", e.erased)
			}
		})
	}
}

// inner returns the plugin behind a served adapter.
func inner(gp *wire.GRPCPlugin) any {
	if w, ok := gp.Impl.(interface{ Inner() any }); ok {
		return w.Inner()
	}
	return gp.Impl
}
