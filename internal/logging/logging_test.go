package logging_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/segconn/connector/internal/logging"
)

func TestSecretsNeverReachTheLog(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log := logging.New(&buf, "debug", format, []string{"pat-na1-secret"})
		log.Info("token pat-na1-secret rejected", "token", "pat-na1-secret", "err", errors.New("bad pat-na1-secret"),
			"url", "https://shop/wp-json?consumer_secret=cs_123&page=1")
		out := buf.String()
		if strings.Contains(out, "pat-na1-secret") || strings.Contains(out, "cs_123") {
			t.Errorf("%s log leaks a secret: %s", format, out)
		}
		if !strings.Contains(out, "page=1") {
			t.Errorf("%s log lost ordinary text: %s", format, out)
		}
	}
}
