package config

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/biter777/countries"
	"github.com/go-viper/mapstructure/v2"

	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

// Minimums of the durations the daemon schedules with: below them a
// value is a slip (a number without a unit is nanoseconds), and the job
// queue would spin instead of pulling.
const (
	MinPullInterval      = 10 * time.Second
	MinReconcileInterval = time.Minute
	MinModelRefresh      = time.Minute
	MinShutdownTimeout   = time.Second
	MinPluginTimeout     = time.Second
)

// durationHook decodes durations from strings with units only: a bare
// number (pull_interval: 5) would otherwise be taken as nanoseconds.
func durationHook() mapstructure.DecodeHookFuncType {
	durType := reflect.TypeOf(time.Duration(0))
	return func(from, to reflect.Type, data any) (any, error) {
		if to != durType {
			return data, nil
		}
		switch from.Kind() {
		case reflect.String:
			s := strings.TrimSpace(data.(string))
			d, err := time.ParseDuration(s)
			if err != nil {
				return nil, fmt.Errorf("want a duration with a unit such as 30s, 5m or 1h; got %q", s)
			}
			return d, nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			return nil, fmt.Errorf("a duration needs a unit: write %vs or %vm, not %v", data, data, data)
		}
		return data, nil
	}
}

// checkMore makes the checks the daemon and the commands would otherwise
// fail on later: sane durations, a listen address, strict booleans.
func (c *Config) checkMore() Problems {
	var ps Problems
	atLeast := func(path string, d, minimum time.Duration) {
		if d < minimum {
			ps = append(ps, Problem{path, fmt.Sprintf("must be at least %s; got %s", minimum, d)})
		}
	}
	atLeast("schedule.pull_interval", c.Schedule.PullInterval, MinPullInterval)
	atLeast("schedule.reconcile_interval", c.Schedule.ReconcileInterval, MinReconcileInterval)
	atLeast("schedule.model_refresh", c.Schedule.ModelRefresh, MinModelRefresh)
	if c.Server.ShutdownTimeout > 0 {
		atLeast("server.shutdown_timeout", c.Server.ShutdownTimeout, MinShutdownTimeout)
	}
	for i, p := range c.Plugins {
		path := fmt.Sprintf("plugins[%d]", i)
		if p.CallTimeout != 0 {
			atLeast(path+".call_timeout", p.CallTimeout, MinPluginTimeout)
		}
		if p.StartTimeout != 0 {
			atLeast(path+".start_timeout", p.StartTimeout, MinPluginTimeout)
		}
	}
	for path, d := range map[string]time.Duration{"retention.outbox": c.Retention.Outbox, "retention.inbox": c.Retention.Inbox,
		"retention.history": c.Retention.History, "retention.quarantine": c.Retention.Quarantine} {
		if d < 0 {
			ps = append(ps, Problem{path, fmt.Sprintf("must not be negative (0 keeps everything); got %s", d)})
		}
	}
	if c.Currency != "" && (len(c.Currency) != 3 || countries.CurrencyCodeByName(c.Currency) == countries.CurrencyUnknown) {
		ps = append(ps, Problem{"currency", fmt.Sprintf("want an ISO 4217 currency code such as USD, EUR or GBP; got %q", c.Currency)})
	}
	if n := len(c.Store.SuppressionSecret); n > 0 && n < 16 {
		ps = append(ps, Problem{"store.suppression_secret", fmt.Sprintf("must be at least 16 characters; got %d", n)})
	}
	if _, _, err := net.SplitHostPort(c.Server.Listen); err != nil {
		ps = append(ps, Problem{"server.listen", fmt.Sprintf("want host:port such as 127.0.0.1:8080 or :8080; got %q", c.Server.Listen)})
	}
	if c.Server.PublicURL != "" {
		if u, err := url.Parse(c.Server.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			ps = append(ps, Problem{"server.public_url", fmt.Sprintf("want an absolute http or https URL; got %q", c.Server.PublicURL)})
		}
	}
	for name, sec := range c.Platforms {
		if v, ok := sec[KeyEnabled]; ok {
			if _, isBool := v.(bool); !isBool {
				ps = append(ps, Problem{"platforms." + name + ".enabled", fmt.Sprintf("must be true or false; got %v", v)})
			}
		}
	}
	return ps
}

// suggest adds "did you mean" to unknown keys of the host's own sections.
func suggest(ps Problems) {
	for i, p := range ps {
		if p.Message != "unknown key" {
			continue
		}
		parent, key := "", p.Path
		if j := strings.LastIndex(p.Path, "."); j >= 0 {
			parent, key = p.Path[:j], p.Path[j+1:]
		}
		known := knownKeys(reflect.TypeOf(Config{}), parent)
		if hint := spec.Suggest(key, known); hint != "" {
			ps[i].Message += " (" + hint + ")"
		}
	}
}

// knownKeys lists the koanf keys of the struct at a dotted path of t
// (list indexes such as plugins[0] are followed into the element).
func knownKeys(t reflect.Type, path string) []string {
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			continue
		}
		if j := strings.IndexByte(part, '['); j >= 0 {
			part = part[:j]
		}
		f, ok := fieldByKey(t, part)
		if !ok {
			return nil
		}
		t = f.Type
		for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := range t.NumField() {
		if k := t.Field(i).Tag.Get("koanf"); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	if t.Kind() != reflect.Struct {
		return reflect.StructField{}, false
	}
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("koanf") == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}
