// Package spec turns one tagged Go struct into everything an adapter's
// config section needs: decoding from the YAML-decoded tree, validation,
// the schema Describe returns, the README table and the example config.
// Built-in connectors and plugins use the same decoder, so a setting means
// the same thing and fails the same way everywhere.
//
// A config struct tags each exported field:
//
//	type Config struct {
//		Token    string        `spec:"token,secret" doc:"private-app token"`
//		PageSize int           `spec:"page_size" default:"100" min:"1" max:"100" doc:"list page size"`
//		Lag      time.Duration `spec:"search_lag" default:"5s" min:"0" doc:"how far behind now pulls stop"`
//		Mode     string        `spec:"mode" default:"auto" enum:"auto,basic" doc:"auth mode"`
//		Retry    RetryConfig   `spec:"retry"` // a nested struct is a section
//		internal int           // unexported fields are not part of the spec
//	}
//
// A key may be dotted (`spec:"auth.client_id"`) to place a field of a flat
// struct in a section. The spec tag is the key followed by options: "secret" (redacted, never
// echoed in errors, may also be given as KEY_file which the host resolves),
// "required" (empty, or absent without a default, is an error) and "url" (a string that must be
// an absolute http or https URL). `spec:"-"` leaves an exported field out.
// default, example (YAML text for the example config), doc, enum
// (comma-separated; applies to a string, each element of a list and each
// value of a map), min and max (numbers or durations; a leading ">"
// makes min exclusive) complete it.
//
// Field types and what each accepts from the tree:
//
//   - string: a string (surrounding spaces trimmed) or a whole number;
//   - int: a whole number, or a string holding one;
//   - float64 (schema type "number"): a number, a numeric string, or a
//     percentage such as "80%" (0.8);
//   - bool: true or false, or the strings "true" and "false"; nothing
//     else (no yes/no/1/0), so a typo is an error, not a silent false;
//   - time.Duration: a string with a unit such as "30s" or "1h30m", or a
//     number of seconds;
//   - []string: a list of strings, or one comma-separated string (handy
//     in environment variables);
//   - map[string]string: a mapping of strings;
//   - a pointer to any scalar above: optional, nil when neither given
//     nor defaulted.
//
// A null value counts as absent, so the default stays. Unknown keys are
// errors that suggest the nearest known key; the key "enabled" at the top
// of a section belongs to the host and is ignored. Every diagnostic names
// the full dotted path (platforms.hubspot.rate_limit.interval, list
// elements as properties[2]).
//
// Why not a library: mapstructure (which the host uses for its own
// sections) reports problems as formatted strings that have to be parsed
// back into paths, and carries no defaults, docs, enums or bounds, so it
// could drive neither the schema nor the docs; the other tag-driven
// decoders (envconfig and its kin) read environment variables rather than
// trees. What is needed is small: a reflection walk, one conversion per
// type and an edit distance for the suggestions.
package spec
