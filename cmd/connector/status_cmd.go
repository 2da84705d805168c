package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/segconn/connector/internal/app"
	"github.com/segconn/connector/internal/app/statusapi"
	"github.com/segconn/connector/internal/config"
	"github.com/segconn/connector/internal/health"
)

func (a *cli) statusCommand() *cobra.Command {
	var url string
	c := &cobra.Command{
		Use:   "status",
		Short: "Show each platform's health and the queue depths",
		Long: `Status asks the running connector (GET /api/v1/status on server.listen,
or on --url) for each platform's state: ok, degraded (rate limited, or
failing now and then), failing (a wrong or revoked token, a missing
permission, or the platform down), or unknown (nothing heard yet); with
when it entered it, the last success and the last error. It also counts
the webhook inbox, the write-back outbox and the quarantined records.

When no connector is running it reads the queues from the store; the
platforms' state is then unknown.

Exit code 1 when a platform is failing, so a script can check it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkOutput(); err != nil {
				return err
			}
			l, err := a.validConfig(cmd.Context())
			if err != nil {
				return err
			}
			if url == "" {
				url = "http://" + localAddr(l.Server.Listen) + statusapi.Path
			}
			rep, err := fetchStatus(cmd.Context(), url)
			if err != nil {
				rep, err = a.storeStatus(cmd.Context(), l, err)
				if err != nil {
					return err
				}
			}
			if a.output == "json" {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else if err := printStatus(a, rep); err != nil {
				return err
			}
			var failing []string
			for _, p := range rep.Platforms {
				if p.State == health.Failing {
					failing = append(failing, p.Platform)
				}
			}
			if len(failing) > 0 {
				return fmt.Errorf("failing: %s", strings.Join(failing, ", "))
			}
			return nil
		},
	}
	c.Flags().StringVar(&url, "url", "", "the running connector's status `URL` (default: http://<server.listen>"+statusapi.Path+")")
	return c
}

// localAddr turns a listen address into one to dial on this machine.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// fetchStatus asks a running connector for its status.
func fetchStatus(ctx context.Context, url string) (app.HealthReport, error) {
	var rep app.HealthReport
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return rep, fmt.Errorf("status URL %q: %w", url, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return rep, fmt.Errorf("asking %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return rep, fmt.Errorf("asking %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
		return rep, fmt.Errorf("reading %s: %w", url, err)
	}
	return rep, nil
}

// storeStatus reads the queues from the store when no connector answers;
// why says why the running one could not be asked.
func (a *cli) storeStatus(ctx context.Context, l *config.Loaded, why error) (app.HealthReport, error) {
	log := a.logger(l)
	log.Info("no running connector answered; reading the store", "reason", why.Error())
	st, err := app.OpenStore(ctx, l.Store, log)
	if err != nil {
		return app.HealthReport{}, err
	}
	defer st.Close()
	names := l.InstanceNames()
	q, err := app.ReadQueues(ctx, st, names)
	if err != nil {
		return app.HealthReport{}, fmt.Errorf("reading the queues: %w", err)
	}
	rep := app.HealthReport{GeneratedAt: time.Now().UTC(), Queues: q}
	for _, n := range names {
		rep.Platforms = append(rep.Platforms, health.Status{Platform: n, State: health.Unknown})
	}
	app.AdaptersOf(l, rep.Platforms)
	return rep, nil
}

// printStatus writes a status report as tables.
func printStatus(a *cli, rep app.HealthReport) error {
	source := "from the running connector"
	if !rep.Live {
		source = "from the store (no connector running: platform state unknown)"
	}
	fmt.Fprintf(a.stdout, "Status at %s, %s\n\n", rep.GeneratedAt.Format(time.RFC3339), source)
	rows := make([][]string, 0, len(rep.Platforms))
	for _, p := range rep.Platforms {
		lastErr := "-"
		if p.LastError != "" {
			lastErr = p.LastError
			if p.ErrorKind != "" {
				lastErr = p.ErrorKind + ": " + lastErr
			}
			lastErr += " (" + ago(rep.GeneratedAt, p.LastErrorAt) + ")"
		}
		rows = append(rows, []string{p.Platform, cmp.Or(p.Adapter, "-"), p.State, ago(rep.GeneratedAt, p.Since), ago(rep.GeneratedAt, p.LastSuccess),
			fmt.Sprint(rep.Queues.Quarantined[p.Platform]), lastErr})
	}
	if err := table(a.stdout, []string{"PLATFORM", "ADAPTER", "STATE", "SINCE", "LAST SUCCESS", "QUARANTINED", "LAST ERROR"}, rows); err != nil {
		return err
	}
	printWebhooks(a, rep)
	q := rep.Queues
	fmt.Fprintf(a.stdout, "\nWebhook events waiting: %d\n", q.InboxPending)
	fmt.Fprintf(a.stdout, "Write-back items: %d pending, %d in flight, %d failed\n", q.Outbox["pending"], q.Outbox["leased"], q.Outbox["failed"])
	return nil
}

// printWebhooks says, per watched platform, whether its webhook
// subscriptions deliver, naming those that do not.
func printWebhooks(a *cli, rep app.HealthReport) {
	for _, p := range rep.Platforms {
		w := p.Webhooks
		if w == nil {
			continue
		}
		line := fmt.Sprintf("%s webhooks: %s, %d active (checked %s)", p.Platform, w.State, w.Active, ago(rep.GeneratedAt, w.CheckedAt))
		for _, s := range w.Inactive {
			line += fmt.Sprintf("; %s %s is %s", s.Topic, s.ID, s.Status)
		}
		if len(w.Missing) > 0 {
			line += "; none for " + strings.Join(w.Missing, ", ")
		}
		if w.LastError != "" {
			line += "; " + w.LastError
		}
		fmt.Fprintln(a.stdout, line)
	}
}

// ago says how long before now t was, or "never".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String() + " ago"
}
