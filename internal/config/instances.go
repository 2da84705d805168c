package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/segconn/connector/plugins/sdk/adapter"
)

// Host keys of a platform section: the host reads them and the adapter
// never sees them (see Instance.Section).
const (
	// KeyEnabled turns a section off (enabled: false).
	KeyEnabled = "enabled"
	// KeyAdapter names the adapter a section is an instance of: a
	// built-in adapter (hubspot, salesforce, woocommerce) or a plugin's
	// name. Without it the section's key names the adapter.
	KeyAdapter = "adapter"
)

// reInstance is what an instance name may look like: it is a path
// segment of the webhook URL (/webhooks/<instance>), a metrics label and
// the platform part of every external reference.
var reInstance = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Instance is one configured connection to one platform account: a
// section under platforms (its key is the instance's name), or a plugin
// that runs on its own under its name. Two WooCommerce shops are two
// instances of the woocommerce adapter. The instance name is what the
// store, the write-back targets, the webhook path, the metrics and the
// status report key everything by; the adapter only says what code
// talks to the platform.
type Instance struct {
	// Name is the section's key, or the plugin's name.
	Name string
	// Adapter names the adapter: a built-in's name or a plugin's name.
	Adapter string
	// Section is the configuration the adapter is given, without the
	// host's keys (enabled, adapter).
	Section adapter.Config
	// Path is where the section is in the configuration, for problems:
	// platforms.<name>, or plugins[i].config for a plugin on its own.
	Path string
	// Plugin is the plugin the instance runs, when its adapter is one.
	Plugin *Plugin
}

// AdapterOf returns the adapter a platform section is an instance of: its
// adapter: key, else the section's key itself.
func AdapterOf(key string, sec adapter.Config) string {
	if a, ok := sec[KeyAdapter].(string); ok && a != "" {
		return a
	}
	return key
}

// SectionEnabled reports whether a platform section is on (it is unless
// it says enabled: false).
func SectionEnabled(sec adapter.Config) bool {
	en, ok := sec[KeyEnabled].(bool)
	return !ok || en
}

// AdapterSection returns a platform section without the host's keys
// (enabled, adapter), which the adapter does not know.
func AdapterSection(sec adapter.Config) adapter.Config {
	out := make(adapter.Config, len(sec))
	for k, v := range sec {
		if k != KeyEnabled && k != KeyAdapter {
			out[k] = v
		}
	}
	return out
}

// Instances returns every instance the connector runs, sorted by name:
// each enabled section under platforms, and each plugin no section names
// as its adapter (which runs on its own, under its name, configured by
// its config: key).
func (c *Config) Instances() []Instance { return c.instances(false) }

// instances lists the instances; withDisabled keeps the sections that say
// enabled: false.
func (c *Config) instances(withDisabled bool) []Instance {
	plugins := map[string]*Plugin{}
	for i := range c.Plugins {
		if n := c.Plugins[i].Name; n != "" {
			if _, dup := plugins[n]; !dup {
				plugins[n] = &c.Plugins[i]
			}
		}
	}
	used := map[string]bool{}
	var out []Instance
	for _, key := range slices.Sorted(maps.Keys(c.Platforms)) {
		sec := c.Platforms[key]
		ad := AdapterOf(key, sec)
		used[ad] = true
		if !withDisabled && !SectionEnabled(sec) {
			continue
		}
		out = append(out, Instance{Name: key, Adapter: ad, Section: AdapterSection(sec), Path: "platforms." + key, Plugin: plugins[ad]})
	}
	for i := range c.Plugins {
		p := &c.Plugins[i]
		if p.Name == "" || used[p.Name] || plugins[p.Name] != p {
			continue
		}
		out = append(out, Instance{Name: p.Name, Adapter: p.Name, Section: p.Config, Path: fmt.Sprintf("plugins[%d].config", i), Plugin: p})
	}
	slices.SortFunc(out, func(a, b Instance) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// InstanceNames returns the names of every instance, sorted.
func (c *Config) InstanceNames() []string {
	var out []string
	for _, in := range c.Instances() {
		out = append(out, in.Name)
	}
	return out
}

// InstancesByAdapter maps each adapter to the names of its instances
// (disabled sections included), sorted, so that a list naming an adapter
// (a write-back target, a survivorship list) can stand for all its
// instances.
func (c *Config) InstancesByAdapter() map[string][]string {
	out := map[string][]string{}
	for _, in := range c.instances(true) {
		out[in.Adapter] = append(out[in.Adapter], in.Name)
	}
	return out
}

// checkInstances checks the host's keys of the platform sections: the
// instance names and the adapter: values. Whether an adapter exists is
// checked where the adapters are known (app.Validate).
func (c *Config) checkInstances() Problems {
	var ps Problems
	for _, key := range slices.Sorted(maps.Keys(c.Platforms)) {
		sec := c.Platforms[key]
		path := "platforms." + key
		if !reInstance.MatchString(key) {
			ps = append(ps, Problem{path, fmt.Sprintf("%q cannot name an instance: use lower-case letters, digits, - and _ (it is a path segment of /webhooks/<instance> and a metrics label)", key)})
		}
		if v, ok := sec[KeyAdapter]; ok {
			if s, isString := v.(string); !isString || s == "" {
				ps = append(ps, Problem{path + "." + KeyAdapter, fmt.Sprintf("must name an adapter (a built-in such as woocommerce, or a plugin's name); got %v", v)})
			}
		}
	}
	claimed := map[string]bool{}
	for _, key := range slices.Sorted(maps.Keys(c.Platforms)) {
		claimed[AdapterOf(key, c.Platforms[key])] = true
	}
	for i, p := range c.Plugins {
		if _, section := c.Platforms[p.Name]; section && !claimed[p.Name] {
			ps = append(ps, Problem{fmt.Sprintf("plugins[%d].name", i), fmt.Sprintf(
				"%q is also a section under platforms (an instance of %s): rename one of them", p.Name, AdapterOf(p.Name, c.Platforms[p.Name]))})
		}
		if claimed[p.Name] && len(p.Config) > 0 {
			ps = append(ps, Problem{fmt.Sprintf("plugins[%d].config", i), fmt.Sprintf(
				"sections under platforms are instances of %q and carry their own configuration: move this into them", p.Name)})
		}
	}
	return ps
}
