// Command connector-marketo serves the Marketo Engage adapter as a
// connector plugin. Run it with --describe to see what it offers.
package main

import (
	"github.com/segconn/connector/plugins/marketo"
	"github.com/segconn/connector/plugins/sdk"
)

func main() { sdk.Serve(marketo.NewWithLogger(sdk.Logger())) }
