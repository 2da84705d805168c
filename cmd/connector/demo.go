package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/daemon"
	"github.com/segconn/connector/internal/health"
	"github.com/segconn/connector/internal/pluginhost"
	"github.com/segconn/connector/internal/sandbox"
	"github.com/segconn/connector/internal/web"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

func (a *cli) demoCommand() *cobra.Command {
	var once bool
	var customers int
	var seed uint64
	var rate float64
	var listen, adminListen string
	c := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole product against built-in fake platforms, with no account",
		Long: `Demo starts the sandbox (fake HubSpot, Salesforce, WooCommerce and
Mailchimp on loopback, filled with generated customers; Mailchimp through
its adapter plugin, run as a plugin process), runs a full cycle on an
embedded SQLite database in a temporary directory (pull every platform,
resolve identities, compute every segment, write the changes back) and
prints a summary. Then it keeps the daemon running with webhooks flowing
from the sandbox and resegmentation live, until Ctrl-C; --once stops after
the cycle. -o json prints the summary as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			return a.runDemo(cmd.Context(), demoOptions{once: once, customers: customers, seed: seed, rate: rate, listen: listen, adminListen: adminListen})
		},
	}
	c.Flags().BoolVar(&once, "once", false, "stop after the first full cycle")
	c.Flags().IntVar(&customers, "customers", 2000, "people the sandbox generates")
	c.Flags().Uint64Var(&seed, "seed", 1, "seed of the generated data")
	c.Flags().Float64Var(&rate, "webhook-rate", 2, "webhooks per second the sandbox fires while the daemon runs")
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address of the daemon's public HTTP server (webhooks, health, metrics)")
	c.Flags().StringVar(&adminListen, "admin-listen", config.DefaultAdminListen, "address of the web app (sign in with the one-time admin login printed)")
	return c
}

type demoOptions struct {
	once      bool
	customers int
	seed      uint64
	rate      float64
	listen    string
	// adminListen is the web app's address.
	adminListen string
}

func (a *cli) runDemo(ctx context.Context, o demoOptions) error {
	dir, err := os.MkdirTemp("", "connector-demo-")
	if err != nil {
		return fmt.Errorf("creating a temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	logLevel := "warn"
	if a.logLevel != "" {
		logLevel = a.logLevel
	}
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: o.seed, Customers: o.customers, Mailchimp: true})
	if err != nil {
		return err
	}
	defer sb.Close()

	l := sb.ConnectorConfig(dir)
	if err := addMailchimpPlugin(sb, l); err != nil {
		return err
	}
	l.Log.Level = logLevel
	l.Server.Listen = o.listen
	log := a.logger(l)
	defs, err := app.SegmentDefinitions(l)
	if err != nil {
		return err
	}
	sb.PrepareWriteback(defs)
	m := daemon.NewMetrics()
	tracker := health.New(health.Options{Logger: log})
	observeHTTP := func(p string) adapter.HTTPObserver { return tracker.Observer(p, m.HTTPObserver(p)) }
	ap, err := app.Open(ctx, l, log, a.factories(), app.Options{ObserveHTTP: observeHTTP})
	if err != nil {
		return err
	}
	defer ap.Close(context.WithoutCancel(ctx))

	stopProgress := a.progress(ctx, ap)
	counters := map[string]func() map[string]int{
		sandbox.HubSpot: sb.HubSpotFake.Calls, sandbox.Salesforce: sb.SalesforceFake.Calls, sandbox.WooCommerce: sb.WooFake.Calls,
		sandbox.Mailchimp: func() map[string]int { return map[string]int{"requests": int(sb.MailchimpFake.Stats().Requests)} },
	}
	calls := map[string]map[string]int{}
	last := map[string]int{}
	observe := func(phase string) {
		for p, f := range counters {
			n := 0
			for _, v := range f() {
				n += v
			}
			if calls[p] == nil {
				calls[p] = map[string]int{}
			}
			calls[p][phase] = n - last[p]
			last[p] = n
		}
	}
	rep, err := ap.Cycle(ctx, time.Now().UTC(), observe)
	stopProgress()
	if err != nil {
		return err
	}
	rep.APICalls = calls
	if a.output == "json" {
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		printCycle(a, rep, resultCurrency(ap.Pipeline.LastResult()))
	}
	if o.once {
		return nil
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listening on %s (pick another with --listen): %w", o.listen, err)
	}
	adminLn, err := net.Listen("tcp", o.adminListen)
	if err != nil {
		ln.Close()
		return fmt.Errorf("listening on %s (pick another with --admin-listen): %w", o.adminListen, err)
	}
	password, err := demoLogin(l)
	if err != nil {
		ln.Close()
		adminLn.Close()
		return err
	}
	d := daemon.New(ap, daemon.Options{Listener: ln, AdminListener: adminLn, Metrics: m, Health: tracker.Snapshot})
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(a.stderr, "\nweb app: http://%s/   sign in as admin / %s (valid until the demo stops)\nmetrics: %s/metrics\nwebhooks from the sandbox at %.1f/s; Ctrl-C to stop\n",
		adminLn.Addr().String(), password, base, o.rate)
	go func() {
		if _, err := sb.FireWebhooks(ctx, sb.Targets(base+"/webhooks"), o.rate, 0); err != nil && ctx.Err() == nil {
			log.Warn("firing sandbox webhooks", "err", err)
		}
	}()
	return d.Run(ctx)
}

// addMailchimpPlugin adds the Mailchimp adapter plugin to the demo's
// configuration as a real plugin process (this binary re-executed with
// `plugin-serve mailchimp`, pinned by its digest) pointed at the
// sandbox's fake Mailchimp account, and the default segments written
// back to it as to every other platform.
func addMailchimpPlugin(sb *sandbox.Sandbox, l *config.Loaded) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this executable to run the Mailchimp plugin: %w", err)
	}
	pc, err := sb.MailchimpPlugin(exe, pluginhost.ServeCommandName, sandbox.Mailchimp)
	if err != nil {
		return err
	}
	l.Plugins = append(l.Plugins, pc)
	if e, ok := sb.MailchimpEndpoint(); ok {
		for _, v := range e.Credentials {
			l.SecretValues = append(l.SecretValues, v)
		}
	}
	if len(l.Segments) == 0 {
		for _, d := range app.DefaultSegments(append(sb.Names(), sandbox.Mailchimp)) {
			if m, ok := d.(map[string]any); ok {
				l.Segments = append(l.Segments, m)
			}
		}
	}
	return nil
}

// progress prints pull progress on a terminal; elsewhere it prints nothing.
func (a *cli) progress(ctx context.Context, ap *app.App) func() {
	f, ok := a.stderr.(*os.File)
	if !ok {
		return func() {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		frames := []string{"|", "/", "-", `\`}
		i := 0
		for {
			select {
			case <-stop:
				fmt.Fprint(f, "\r\033[K")
				return
			case <-ctx.Done():
				return
			case <-t.C:
				n, _ := ap.Store.CountProfiles(ctx)
				fmt.Fprintf(f, "\r\033[K%s pulling platforms… %d profiles so far", frames[i%4], n)
				i++
			}
		}
	}()
	return func() { close(stop); <-done }
}

func printCycle(a *cli, rep *app.CycleReport, cur string) {
	w := a.stdout
	fmt.Fprintf(w, "Pulled (as of %s):\n", rep.AsOf.Format(time.DateOnly))
	for _, p := range rep.Pulled {
		n := 0
		for _, v := range p.Records {
			n += v
		}
		fmt.Fprintf(w, "  %-12s %6d records with %4d API calls (%d pages): %s", p.Platform, n, rep.APICalls[p.Platform][app.PhasePulled], p.Pages, counts(p.Records))
		if p.Quarantined > 0 {
			fmt.Fprintf(w, "  (%d quarantined)", p.Quarantined)
		}
		if e := rep.PullErrors[p.Platform]; e != "" {
			fmt.Fprintf(w, "  ERROR: %s", e)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nProfiles after identity resolution: %d\n\nSegments:\n", rep.Profiles)
	rows := [][]string{}
	for _, k := range rep.Segments {
		if k.Size == 0 {
			continue
		}
		rows = append(rows, []string{k.Segment, strconv.Itoa(k.Size), pct(k.Share), money(k.Revenue, cur), money(k.AOV, cur), money(k.AvgRealisedCLV, cur), pct(k.ChurnRate)})
	}
	_ = table(w, []string{"  SEGMENT", "CUSTOMERS", "SHARE", "REVENUE", "AVG ORDER", "AVG CLV", "CHURNED"}, indent(rows))
	fmt.Fprintf(w, "\nWritten back (%d membership changes, plan %s):\n", rep.Changes, rep.Fingerprint)
	for _, p := range rep.Planned {
		if c := rep.APICalls[p.Platform][app.PhaseEnsured]; c > 0 {
			fmt.Fprintf(w, "  %-12s %d API calls to find or create properties, lists and campaigns\n", p.Platform, c)
		}
	}
	for i, p := range rep.Written {
		min := 0
		if i < len(rep.Planned) {
			min = rep.Planned[i].MinCalls
		}
		c := rep.APICalls[p.Platform]
		fmt.Fprintf(w, "  %-12s %5d records written with %d API calls (plan: %d)", p.Platform, p.OK, c[app.PhaseWritten], min)
		if p.Retryable+p.Permanent > 0 {
			fmt.Fprintf(w, ", %d to retry, %d refused", p.Retryable, p.Permanent)
		}
		if e := rep.PushErrors[p.Platform]; e != "" {
			fmt.Fprintf(w, "  ERROR: %s", e)
		}
		fmt.Fprintln(w)
	}
	for _, wn := range rep.Warnings {
		fmt.Fprintf(w, "warning (%s): %s\n", wn.Kind, wn.Message)
	}
}

func indent(rows [][]string) [][]string {
	for _, r := range rows {
		r[0] = "  " + r[0]
	}
	return rows
}

// demoLogin adds a one-time admin user with a random password to the
// demo's configuration and returns the password.
func demoLogin(l *config.Loaded) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making the demo's admin password: %w", err)
	}
	password := base64.RawURLEncoding.EncodeToString(b)
	hash, err := web.HashPassword(password)
	if err != nil {
		return "", fmt.Errorf("hashing the demo's admin password: %w", err)
	}
	l.Users = append(l.Users, config.User{Name: "admin", Role: config.RoleAdmin, PasswordHash: hash})
	return password, nil
}
