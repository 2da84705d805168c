package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"github.com/segconn/connector/internal/pipeline"
	"github.com/segconn/connector/plugins/sdk/adapter"
)

// progress shows a long command's sign of life on stderr: a spinner, what
// it is doing, a count and the time taken. It uses
// github.com/schollz/progressbar (a well-kept library that throttles and
// redraws one line safely from several goroutines) and shows nothing when
// stderr is not a terminal, so scripts and logs stay clean. Its methods
// are safe on a nil *progress.
type progress struct {
	bar        *progressbar.ProgressBar
	what, unit string
	n          atomic.Int64
}

// newProgress starts a spinner described by what, counting unit (none
// when ""), or returns nil when stderr is not a terminal.
func (a *cli) newProgress(what, unit string) *progress {
	f, ok := a.stderr.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(what),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionClearOnFinish(),
	}
	if unit != "" {
		opts = append(opts, progressbar.OptionSetItsString(unit), progressbar.OptionShowIts())
	}
	return &progress{bar: progressbar.NewOptions(-1, opts...), what: what, unit: unit}
}

// add counts n more units.
func (p *progress) add(n int) {
	if p != nil && n > 0 {
		total := p.n.Add(int64(n))
		p.bar.Describe(fmt.Sprintf("%s: %d %s", p.what, total, p.unit))
		_ = p.bar.Add(n)
	}
}

// done clears the line.
func (p *progress) done() {
	if p != nil {
		_ = p.bar.Finish()
	}
}

// hooks count pulled and pushed records into p.
func (p *progress) hooks() pipeline.Hooks {
	if p == nil {
		return pipeline.Hooks{}
	}
	return pipeline.Hooks{
		OnPulled: func(_, _ string, n int) { p.add(n) },
		OnPushed: func(_ string, _ adapter.PushStatus, n int) { p.add(n) },
	}
}
