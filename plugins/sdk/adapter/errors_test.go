package adapter_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

func TestErrorKindsSurviveWrapping(t *testing.T) {
	base := errors.New("boom")
	cases := []struct {
		err       error
		sentinel  error
		kind      adapter.Kind
		retryable bool
	}{
		{adapter.Retryable(base), adapter.ErrRetryable, adapter.KindRetryable, true},
		{adapter.Permanent(base), adapter.ErrPermanent, adapter.KindPermanent, false},
		{adapter.Auth(base), adapter.ErrAuth, adapter.KindAuth, false},
		{adapter.RateLimited(3*time.Second, base), adapter.ErrRateLimited, adapter.KindRateLimited, true},
	}
	for _, c := range cases {
		wrapped := fmt.Errorf("listing contacts: %w", c.err)
		if !errors.Is(wrapped, c.sentinel) {
			t.Errorf("%v: errors.Is(sentinel) = false", c.kind)
		}
		if !errors.Is(wrapped, base) {
			t.Errorf("%v: cause lost", c.kind)
		}
		if got := adapter.KindOf(wrapped); got != c.kind {
			t.Errorf("KindOf = %v, want %v", got, c.kind)
		}
		if got := adapter.IsRetryable(wrapped); got != c.retryable {
			t.Errorf("%v: IsRetryable = %v", c.kind, got)
		}
		for _, other := range []error{adapter.ErrRetryable, adapter.ErrPermanent, adapter.ErrAuth, adapter.ErrRateLimited} {
			if other != c.sentinel && errors.Is(wrapped, other) {
				t.Errorf("%v matched the wrong sentinel %v", c.kind, other)
			}
		}
	}
	if d := adapter.RetryAfterOf(fmt.Errorf("x: %w", adapter.RateLimited(3*time.Second, base))); d != 3*time.Second {
		t.Errorf("RetryAfterOf = %v", d)
	}
}
