// Package connectors lists the adapters compiled into the binary. An
// explicit map (rather than init-time registration) keeps the set visible
// and free of global side effects; third-party platforms come in as plugins.
package connectors

import (
	"log/slog"

	"github.com/segconn/connector/connectors/hubspot"
	"github.com/segconn/connector/connectors/salesforce"
	"github.com/segconn/connector/connectors/woocommerce"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Builtin returns a constructor per built-in platform name.
func Builtin() map[string]func(*slog.Logger) adapter.Adapter {
	return map[string]func(*slog.Logger) adapter.Adapter{
		hubspot.Name:     func(l *slog.Logger) adapter.Adapter { return hubspot.New(l) },
		salesforce.Name:  func(l *slog.Logger) adapter.Adapter { return salesforce.New(l) },
		woocommerce.Name: func(l *slog.Logger) adapter.Adapter { return woocommerce.New(l) },
	}
}
