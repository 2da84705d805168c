package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
)

// hclogFor returns an hclog.Logger for go-plugin whose every line ends up
// in l at the matching slog level. go-plugin logs its own lifecycle there
// and re-logs each JSON line a plugin writes on stderr, so plugin logs
// arrive in the host's logs with their level intact.
func hclogFor(l *slog.Logger, name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclogLevelFor(l),
		JSONFormat: true,
		Output:     &slogWriter{l: l},
	})
}

// hclogLevelFor is the lowest level l keeps.
func hclogLevelFor(l *slog.Logger) hclog.Level {
	ctx := context.Background()
	switch {
	case l.Enabled(ctx, slog.LevelDebug-4):
		return hclog.Trace
	case l.Enabled(ctx, slog.LevelDebug):
		return hclog.Debug
	case l.Enabled(ctx, slog.LevelInfo):
		return hclog.Info
	case l.Enabled(ctx, slog.LevelWarn):
		return hclog.Warn
	default:
		return hclog.Error
	}
}

func slogLevel(s string) slog.Level {
	switch hclog.LevelFromString(s) {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// slogWriter parses hclog JSON lines and logs them to l.
type slogWriter struct {
	l   *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (w *slogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *slogWriter) line(b []byte) {
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		w.l.Info(string(b))
		return
	}
	level, _ := m["@level"].(string)
	msg, _ := m["@message"].(string)
	attrs := make([]slog.Attr, 0, len(m))
	if mod, ok := m["@module"].(string); ok && mod != "" {
		attrs = append(attrs, slog.String("module", mod))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		switch k {
		case "@level", "@message", "@module", "@timestamp", "@caller", "timestamp":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, m[k]))
	}
	w.l.LogAttrs(context.Background(), slogLevel(level), msg, attrs...)
}
