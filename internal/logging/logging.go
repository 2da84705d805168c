// Package logging builds the process's log/slog logger from configuration,
// with every known secret value redacted from every string it writes.
package logging

import (
	"io"
	"log/slog"
	"strings"

	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// New returns a logger writing text or JSON at level to w. Any of secrets
// appearing in a message or string attribute is replaced.
func New(w io.Writer, level, format string, secrets []string) *slog.Logger {
	r := httpkit.NewRedactor(secrets...)
	opts := &slog.HandlerOptions{
		Level: ParseLevel(level),
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Value.Kind() {
			case slog.KindString:
				a.Value = slog.StringValue(r.String(a.Value.String()))
			case slog.KindAny:
				if err, ok := a.Value.Any().(error); ok {
					a.Value = slog.StringValue(r.String(err.Error()))
				}
			}
			return a
		},
	}
	var h slog.Handler
	if strings.EqualFold(format, "json") {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h)
}

// ParseLevel maps debug, info, warn and error to slog levels (default info).
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
