// Command connector-klaviyo serves the Klaviyo adapter as a connector
// plugin. Run it with --describe to see what it offers.
package main

import (
	"github.com/segconn/connector/plugins/klaviyo"
	"github.com/segconn/connector/plugins/sdk"
)

func main() { sdk.Serve(klaviyo.NewWithLogger(sdk.Logger())) }
