// Command connector-pardot serves the Account Engagement (Pardot) adapter
// as a connector plugin. Run it with --describe to see what it offers.
package main

import (
	"github.com/segconn/connector/plugins/pardot"
	"github.com/segconn/connector/plugins/sdk"
)

func main() { sdk.Serve(pardot.NewWithLogger(sdk.Logger())) }
