package sdk

import (
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/adapter/spec"
)

// DecodeConfig decodes a plugin's config section into dst, a pointer to a
// struct tagged for package adapter/spec, with the rules the built-in
// connectors follow: defaults from the tags, typed values (whole numbers
// stay ints, durations take units), unknown keys and type, enum, bound and
// required errors all reported at once. Diagnostic paths are relative to
// the section; the host prefixes them with the plugin's place in the
// configuration. Call it from both ValidateConfig and Configure.
//
//	type Config struct {
//		Folder   string `spec:"folder,required" doc:"folder holding the CSV files"`
//		Currency string `spec:"currency" default:"USD" doc:"currency of orders without one"`
//	}
//
//	func (a *Adapter) ValidateConfig(_ context.Context, raw adapter.Config) ([]adapter.Diagnostic, error) {
//		var c Config
//		return sdk.DecodeConfig(raw, &c), nil
//	}
func DecodeConfig(raw adapter.Config, dst any) []adapter.Diagnostic {
	return spec.Decode(raw, "", dst)
}

// ConfigSchema is the schema of a tagged config struct, for
// adapter.Description.ConfigSchema: the host checks a plugin's section
// against it before the plugin sees it.
func ConfigSchema(v any) []adapter.ConfigField {
	return spec.Fields(v)
}
