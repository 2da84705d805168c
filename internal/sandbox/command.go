package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/segconn/connector/core/segment"
)

// Segments returns the segment definitions whose write-back the sandbox
// prepares for, given the sandbox's platforms.
type Segments func(platforms []string) ([]segment.Definition, error)

// NewCommand returns `connector sandbox`: start the fakes with generated
// data, prepare the Salesforce org for the write-back of the segments
// returns (nil: prepare nothing), print where they are and how to log in,
// optionally fire webhooks at a target, and serve until interrupted. It
// honours a persistent -o/--output flag (table or json) defined by the
// root command.
func NewCommand(segments Segments) *cobra.Command {
	var (
		seed                    uint64
		customers, basePort     int
		listenHS, listenSF, lWC string
		target                  string
		rateFlag                float64
		count                   int
		writeConfig             string
		noPrepare               bool
		shops                   int
		mailchimp, klaviyo      bool
		pardot                  bool
		marketo                 bool
	)
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve fake HubSpot, Salesforce and WooCommerce accounts with generated customers",
		Long: `sandbox starts faithful fakes of HubSpot, Salesforce and WooCommerce on
loopback, fills them with a generated small business (customers with
realistic buying histories, leads, prospects with open deals, companies),
prints their URLs and credentials and a platforms: section to paste into a
config file, and serves until Ctrl-C. The same --seed always produces the
same data and the same credentials.

With --webhook-target the fakes also send webhooks there: the target is a
base URL and each platform posts to base/hubspot, base/woocommerce and
base/salesforce/<path secret>.

Like an admin setting up a real org, the sandbox creates the Salesforce
custom fields the segments write to (the default segments, and those of
the -c configuration when it exists), so write-back works at once.
--no-prepare leaves them out, to see the error a fresh org gives.

With --shops 2 the business runs two WooCommerce shops: the second is a
fake of its own (woocommerce-2, an instance of the woocommerce adapter
in the printed config, with webhooks to base/woocommerce-2), and a
quarter of the shop customers buy in both under the same email.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			listen := map[string]string{}
			if shops < 1 || shops > MaxShops {
				return fmt.Errorf("--shops must be 1 to %d, got %d", MaxShops, shops)
			}
			if basePort > 0 {
				for i, p := range Platforms {
					listen[p] = net.JoinHostPort("127.0.0.1", strconv.Itoa(basePort+i))
				}
				for i := 1; i < shops; i++ {
					listen[ShopName(i)] = net.JoinHostPort("127.0.0.1", strconv.Itoa(basePort+len(Platforms)+i-1))
				}
			}
			for p, v := range map[string]string{HubSpot: listenHS, Salesforce: listenSF, WooCommerce: lWC} {
				if v != "" {
					listen[p] = v
				}
			}
			if customers <= 0 {
				return fmt.Errorf("--customers must be positive, got %d", customers)
			}
			if target != "" && rateFlag <= 0 {
				return fmt.Errorf("--webhook-rate must be positive, got %g", rateFlag)
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			sb, err := Start(ctx, Options{Seed: seed, Customers: customers, Listen: listen, Logger: log, Shops: shops,
				Mailchimp: mailchimp, Klaviyo: klaviyo, Marketo: marketo,
				Pardot: pardot})
			if err != nil {
				return err
			}
			defer sb.Close()
			var prepared []string
			if !noPrepare && segments != nil {
				defs, err := segments(sb.Names())
				if err != nil {
					return fmt.Errorf("reading the segments to prepare the Salesforce org for: %w", err)
				}
				prepared = sb.PrepareWriteback(defs)
			}
			if writeConfig != "" {
				b, err := configYAML(sb)
				if err != nil {
					return fmt.Errorf("encoding sandbox config: %w", err)
				}
				// Written whole or not at all: whoever waits for the file
				// (a script, a test) never reads half of it.
				tmp := writeConfig + ".tmp"
				if err := os.WriteFile(tmp, b, 0o600); err != nil {
					return fmt.Errorf("writing sandbox config: %w", err)
				}
				if err := os.Rename(tmp, writeConfig); err != nil {
					return fmt.Errorf("writing sandbox config: %w", err)
				}
			}
			asJSON := false
			if f := cmd.Flag("output"); f != nil && f.Value.String() == "json" {
				asJSON = true
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = printJSON(out, sb)
			} else {
				err = printText(out, sb, writeConfig, prepared)
			}
			if err != nil {
				return err
			}
			if target != "" {
				go func() {
					rep, err := sb.FireWebhooks(ctx, sb.Targets(target), rateFlag, count)
					if err != nil {
						log.Warn("firing sandbox webhooks", "error", err)
					}
					if !asJSON {
						fmt.Fprintf(out, "webhooks fired: changes made %s; deliveries acknowledged %s; failed %s\n", perPlatform(rep.Changes), perPlatform(rep.Delivered), perPlatform(rep.Failed))
					}
				}()
			}
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same data and credentials")
	f.IntVar(&customers, "customers", 1000, "number of people to generate")
	f.IntVar(&basePort, "base-port", 0, "serve HubSpot, Salesforce and WooCommerce on 127.0.0.1 at this port and the next two (0: any free ports)")
	f.StringVar(&listenHS, "listen-hubspot", "", "listen address of the HubSpot fake (overrides --base-port)")
	f.StringVar(&listenSF, "listen-salesforce", "", "listen address of the Salesforce fake (overrides --base-port)")
	f.StringVar(&lWC, "listen-woocommerce", "", "listen address of the WooCommerce fake (overrides --base-port)")
	f.StringVar(&target, "webhook-target", "", "base URL to send the platforms' webhooks to, e.g. http://127.0.0.1:8080/webhooks")
	f.Float64Var(&rateFlag, "webhook-rate", 1, "webhooks per second, spread over the platforms")
	f.IntVar(&count, "webhook-count", 0, "stop after this many webhooks (0: until Ctrl-C)")
	f.StringVar(&writeConfig, "write-config", "", "also write the platforms: config section to this YAML `FILE`")
	f.BoolVar(&noPrepare, "no-prepare", false, "leave the Salesforce org without the custom fields the segments write to")
	f.IntVar(&shops, "shops", 1, "WooCommerce shops the business runs (further shops are woocommerce-2, … on the ports after the first three)")
	f.BoolVar(&mailchimp, "mailchimp", false, "also serve a fake Mailchimp account (the newsletter audience) for the Mailchimp adapter plugin")
	f.BoolVar(&klaviyo, "klaviyo", false, "also serve a fake Klaviyo account (every person as a profile) for the Klaviyo adapter plugin")
	f.BoolVar(&pardot, "pardot", false, "also serve a fake Account Engagement (Pardot) business unit (every person as a prospect, some with visitor activity) for the Pardot adapter plugin")
	f.BoolVar(&marketo, "marketo", false, "also serve a fake Marketo Engage instance (every person as a lead) for the Marketo adapter plugin")
	return cmd
}

// perPlatform says per-platform counts in words: "hubspot 3, woocommerce 1".
func perPlatform(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// summary counts the dataset per platform.
type summary struct {
	People    int                       `json:"people"`
	Kinds     map[Kind]int              `json:"kinds"`
	Churned   int                       `json:"churned"`
	Platforms map[string]map[string]int `json:"platforms"`
}

func summarize(d *Dataset, names []string) summary {
	s := summary{People: len(d.People), Kinds: map[Kind]int{}, Platforms: map[string]map[string]int{}}
	for _, p := range d.People {
		s.Kinds[p.Kind]++
		if p.Churned() {
			s.Churned++
		}
	}
	for _, p := range names {
		r := d.Platform(p)
		s.Platforms[p] = map[string]int{"contacts": len(r.Contacts), "companies": len(r.Companies), "orders": len(r.Orders)}
	}
	return s
}

func printJSON(w io.Writer, sb *Sandbox) error {
	doc := struct {
		Seed      uint64     `json:"seed"`
		AsOf      time.Time  `json:"as_of"`
		Summary   summary    `json:"summary"`
		Endpoints []Endpoint `json:"endpoints"`
		// Plugins are the fakes served for adapter plugins.
		Plugins []Endpoint `json:"plugin_endpoints,omitempty"`
	}{Seed: sb.Data.Seed, AsOf: sb.Data.AsOf, Summary: summarize(sb.Data, sb.Names()), Endpoints: sb.Endpoints(), Plugins: sb.pluginEndpoints()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("printing sandbox endpoints: %w", err)
	}
	return nil
}

func printText(w io.Writer, sb *Sandbox, configFile string, prepared []string) error {
	s := summarize(sb.Data, sb.Names())
	fmt.Fprintf(w, "Sandbox running: seed %d, %d people (%d buyers, %d of them churned; %d leads; %d prospects), history up to %s.\n\n",
		sb.Data.Seed, s.People, s.Kinds[KindBuyer], s.Churned, s.Kinds[KindLead], s.Kinds[KindProspect], sb.Data.AsOf.Format(time.DateOnly))
	for _, e := range sb.Endpoints() {
		c := s.Platforms[e.Platform]
		fmt.Fprintf(w, "%-12s %s   (%d contacts, %d companies, %d orders/deals)\n", e.Platform, e.BaseURL, c["contacts"], c["companies"], c["orders"])
		keys := make([]string, 0, len(e.Credentials))
		for k := range e.Credentials {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-20s %s\n", k, e.Credentials[k])
		}
	}
	for _, e := range sb.pluginEndpoints() {
		fmt.Fprintf(w, "%-12s %s   (fake for the %s adapter plugin; add it under plugins: with this config)\n", e.Platform, e.BaseURL, e.Platform)
		keys := make([]string, 0, len(e.Config))
		for k := range e.Config {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-20s %v\n", k, e.Config[k])
		}
	}
	if len(prepared) > 0 {
		fmt.Fprintf(w, "\nSalesforce custom fields created on Contact and Lead for write-back: %s\n", strings.Join(prepared, ", "))
	} else {
		fmt.Fprintf(w, "\nNo Salesforce custom fields created: write-back of properties to Salesforce fails until they exist.\n")
	}
	b, err := configYAML(sb)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nConfiguration for `connector run -c FILE`:\n\n%s\n", b)
	if configFile != "" {
		fmt.Fprintf(w, "(also written to %s)\n", configFile)
	}
	fmt.Fprintln(w, "Serving until Ctrl-C.")
	return nil
}

// configYAML renders the platforms: section of a config file.
func configYAML(sb *Sandbox) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]any{"platforms": sb.Configs()}); err != nil {
		return nil, fmt.Errorf("encoding sandbox config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding sandbox config: %w", err)
	}
	return buf.Bytes(), nil
}
