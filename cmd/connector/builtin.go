package main

import (
	"log/slog"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/internal/config"
)

// builtinAdapters lists the connectors compiled into the binary.
func builtinAdapters() map[string]func(*slog.Logger) adapter.Adapter {
	return map[string]func(*slog.Logger) adapter.Adapter{}
}

func (a *app) builtin(name string) (func(*slog.Logger) adapter.Adapter, bool) {
	f, ok := builtinAdapters()[name]
	return f, ok
}

func (a *app) builtinNames() string {
	var names []string
	for n := range builtinAdapters() {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// validateSegments checks segment definitions with the segment core.
func (a *app) validateSegments(*config.Loaded) config.Problems { return nil }

// extraCommands are the commands later packages contribute.
func (a *app) extraCommands() []*cobra.Command { return nil }
