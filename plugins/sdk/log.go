package sdk

import (
	"io"
	"log/slog"
	"os"
	"strings"
)

// hclogTime is the timestamp layout go-plugin's host parses in plugin logs.
const hclogTime = "2006-01-02T15:04:05.000000Z07:00"

// NewLogger returns a logger for plugin code that writes one JSON object
// per line to w in the shape hclog uses (@level, @message, @timestamp and
// the attributes). The host parses these lines off the plugin's stderr and
// re-logs them into its own slog logger at the same level. Pass os.Stderr
// (see Logger); create it before calling Serve, which redirects the
// process's os.Stderr afterwards.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(hclogTime))
			case slog.LevelKey:
				return slog.String("@level", hclogLevel(a.Value.Any()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}

// Logger is NewLogger(os.Stderr, slog.LevelDebug): the host decides what
// it keeps.
func Logger() *slog.Logger { return NewLogger(os.Stderr, slog.LevelDebug) }

func hclogLevel(v any) string {
	l, ok := v.(slog.Level)
	if !ok {
		return strings.ToLower(slog.AnyValue(v).String())
	}
	switch {
	case l < slog.LevelDebug:
		return "trace"
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	default:
		return "error"
	}
}
