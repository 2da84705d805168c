package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/segconn/connector/plugins/sdk/httpkit"
)

// secretKey matches the names of keys whose values are secrets.
var secretKey = regexp.MustCompile(`(^|_)(token|secret|password|passwd|api_key|apikey|private_key|consumer_key|consumer_secret|client_secret|refresh_token|access_token|key_pem|webhook_url)$`)

// IsSecretKey reports whether a config key holds a secret.
func IsSecretKey(key string) bool {
	return secretKey.MatchString(strings.ToLower(key))
}

// resolveSecretFiles replaces every "<secret>_file: PATH" with the trimmed
// contents of PATH under "<secret>", in place, and returns the values read.
func resolveSecretFiles(m map[string]any, prefix string, ps *Problems) []string {
	var read []string
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		path := joinPath(prefix, k)
		switch x := v.(type) {
		case map[string]any:
			read = append(read, resolveSecretFiles(x, path, ps)...)
		case []any:
			for i, e := range x {
				if sub, ok := e.(map[string]any); ok {
					read = append(read, resolveSecretFiles(sub, fmt.Sprintf("%s[%d]", path, i), ps)...)
				}
			}
		case string:
			base, ok := strings.CutSuffix(k, "_file")
			if !ok || !IsSecretKey(base) {
				continue
			}
			data, err := os.ReadFile(x)
			if err != nil {
				*ps = append(*ps, Problem{path, fmt.Sprintf("reading secret file: %v", err)})
				continue
			}
			val := strings.TrimSpace(string(data))
			m[base] = val
			delete(m, k)
			read = append(read, val)
		}
	}
	return read
}

func collectSecrets(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		switch x := v.(type) {
		case map[string]any:
			out = append(out, collectSecrets(x, joinPath(prefix, k))...)
		case []any:
			for _, e := range x {
				if sub, ok := e.(map[string]any); ok {
					out = append(out, collectSecrets(sub, k)...)
				}
			}
		case string:
			if IsSecretKey(k) && x != "" {
				out = append(out, x)
			}
			if k == "dsn" {
				if u, err := url.Parse(x); err == nil && u.User != nil {
					if p, ok := u.User.Password(); ok && p != "" {
						out = append(out, p)
					}
				}
				for _, kv := range strings.Fields(x) {
					if p, ok := strings.CutPrefix(kv, "password="); ok && p != "" {
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// Redact returns a deep copy of tree with every secret value replaced.
func Redact(tree map[string]any) map[string]any {
	out := make(map[string]any, len(tree))
	for k, v := range tree {
		out[k] = redactValue(k, v)
	}
	return out
}

func redactValue(k string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		return Redact(x)
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = redactValue(k, e)
		}
		return c
	case string:
		if IsSecretKey(k) && x != "" {
			return httpkit.Redacted
		}
		if k == "dsn" {
			return RedactDSN(x)
		}
		return x
	default:
		return v
	}
}

// RedactDSN hides the password of a URL or key=value connection string.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), httpkit.Redacted)
			return u.String()
		}
		return dsn
	}
	fields := strings.Fields(dsn)
	for i, f := range fields {
		if strings.HasPrefix(f, "password=") {
			fields[i] = "password=" + httpkit.Redacted
		}
	}
	return strings.Join(fields, " ")
}
