package sdk_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/segconn/connector/plugins/sdk"
)

func TestLoggerWritesLinesGoPluginParses(t *testing.T) {
	var buf bytes.Buffer
	sdk.NewLogger(&buf, slog.LevelDebug).Warn("disk low", "free_mb", 12)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%s: %v", buf.Bytes(), err)
	}
	if m["@level"] != "warn" || m["@message"] != "disk low" || m["free_mb"] != float64(12) {
		t.Errorf("log line %s", buf.Bytes())
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000000Z07:00", m["@timestamp"].(string)); err != nil {
		t.Errorf("@timestamp: %v", err)
	}
}
