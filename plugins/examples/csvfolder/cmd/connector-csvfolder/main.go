// Command connector-csvfolder serves the csvfolder adapter as a connector
// plugin. Run it by hand with --describe to see what it offers; otherwise
// the connector host starts it.
package main

import (
	"github.com/segconn/connector/plugins/examples/csvfolder"
	"github.com/segconn/connector/plugins/sdk"
)

func main() {
	sdk.Serve(csvfolder.New())
}
