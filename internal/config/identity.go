package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/segconn/connector/internal/identity"
)

// Identity configures identity resolution.
type Identity struct {
	// Survivorship gives, per profile field, the platforms whose values
	// win, best first:
	//
	//	identity:
	//	  survivorship:
	//	    lifecycle_stage: [salesforce, hubspot]
	//	    company: [salesforce, hubspot, woocommerce]
	//	    company:             # or per company field
	//	      employees: [hubspot]
	//
	// A field without a list takes the newest non-empty value. See
	// identity.Policy for the rules; Policy decodes this tree.
	Survivorship map[string]any `koanf:"survivorship"`
}

// Policy returns the survivorship policy and the problems of the section,
// each with its path. instances maps each adapter to its instances' names
// (Config.InstancesByAdapter): a list names instances, and a name that is
// no instance but an adapter stands for all that adapter's instances, in
// name order, at its place in the list.
func (c Identity) Policy(instances map[string][]string) (identity.Policy, Problems) {
	var ps Problems
	pol := identity.Policy{}
	known := map[string]bool{}
	for _, names := range instances {
		for _, n := range names {
			known[n] = true
		}
	}
	var configured []string
	for ad, names := range instances {
		configured = append(configured, names...)
		if !known[ad] {
			configured = append(configured, ad)
		}
	}
	slices.Sort(configured)
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			field := k
			if prefix != "" {
				field = prefix + "." + k
			}
			path := "identity.survivorship." + field
			if sub, ok := m[k].(map[string]any); ok && prefix == "" {
				walk(field, sub)
				continue
			}
			if err := identity.CheckField(field); err != nil {
				ps = append(ps, Problem{path, err.Error()})
				continue
			}
			list, msg := platformList(m[k])
			if msg != "" {
				ps = append(ps, Problem{path, msg})
				continue
			}
			var expanded []string
			for i, p := range list {
				names := []string{p}
				if !known[p] {
					names = instances[p]
				}
				switch {
				case len(names) == 0:
					ps = append(ps, Problem{fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("names no configured platform or plugin: %q (configured: %s)", p, strings.Join(configured, ", "))})
				case slices.Index(list, p) != i:
					ps = append(ps, Problem{fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("%q is listed twice", p)})
				}
				for _, n := range names {
					if !slices.Contains(expanded, n) {
						expanded = append(expanded, n)
					}
				}
			}
			pol[field] = expanded
		}
	}
	walk("", c.Survivorship)
	if len(pol) == 0 {
		pol = nil
	}
	return pol, ps
}

// platformList reads a list of platform names: a YAML list, or a
// comma-separated string (as an environment variable gives it).
func platformList(v any) ([]string, string) {
	var out []string
	switch v := v.(type) {
	case string:
		for _, s := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(s))
		}
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Sprintf("must be a list of platform names; got an element of type %T", e)
			}
			out = append(out, strings.TrimSpace(s))
		}
	default:
		return nil, fmt.Sprintf("must be a list of platform names, best first; got %T", v)
	}
	if len(out) == 0 || slices.Contains(out, "") {
		return nil, "must be a non-empty list of platform names, best first"
	}
	return out, ""
}

// SurvivorshipPolicy returns the configured survivorship policy; a
// configuration that loaded without problems has a valid one.
func (c *Config) SurvivorshipPolicy() identity.Policy {
	pol, _ := c.Identity.Policy(c.InstancesByAdapter())
	return pol
}
