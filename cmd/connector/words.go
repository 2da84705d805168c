package main

import (
	"fmt"
	"sort"
	"strings"
)

// counts says a map of counts in words, largest noun order fixed by name:
// "142 companies, 1112 contacts, 27 deals". Zero counts are left out;
// none at all reads "nothing".
func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k, n := range m {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "nothing"
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", m[k], plural(k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// plural is noun for n things, in English.
func plural(noun string, n int) string {
	if n == 1 {
		return noun
	}
	switch {
	case strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ay") && !strings.HasSuffix(noun, "ey"):
		return strings.TrimSuffix(noun, "y") + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"):
		return noun + "es"
	default:
		return noun + "s"
	}
}
