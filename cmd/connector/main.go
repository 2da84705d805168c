// Command connector segments a small business's customers across the CRMs
// and shops it already uses. Run `connector --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/segconn/connector/internal/pluginhost"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	pluginhost.Shutdown() // kill any plugin process still running, whatever happened
	os.Exit(code)
}
