package main

import (
	"errors"
	"log/slog"
	"sort"
	"strings"

	"github.com/segconn/connector/adapter"
	"github.com/segconn/connector/connectors"
	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
)

// builtinAdapters lists the connectors compiled into the binary.
func builtinAdapters() map[string]func(*slog.Logger) adapter.Adapter {
	return connectors.Builtin()
}

func (a *cli) builtin(name string) (func(*slog.Logger) adapter.Adapter, bool) {
	f, ok := builtinAdapters()[name]
	return f, ok
}

func (a *cli) builtinNames() string {
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
func (a *cli) validateSegments(l *config.Loaded) config.Problems {
	if _, err := app.SegmentDefinitions(l); err != nil {
		var ps config.Problems
		if errors.As(err, &ps) {
			return ps
		}
		return config.Problems{{Path: "segments", Message: err.Error()}}
	}
	return nil
}
