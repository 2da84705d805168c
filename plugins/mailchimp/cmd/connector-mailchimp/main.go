// Command connector-mailchimp serves the Mailchimp adapter as a connector
// plugin. Run it with --describe to see what it offers.
package main

import (
	"github.com/segconn/connector/plugins/mailchimp"
	"github.com/segconn/connector/plugins/sdk"
)

func main() { sdk.Serve(mailchimp.New()) }
