// Command bench compares the segment engine's RFM scoring with the same
// scores computed by the sqlite3 command-line shell using window functions,
// on the same generated data, and reports the Go engine's peak memory.
//
//	go run ./core/segment/bench [-customers 1000000] [-orders 10] [-runs 3] [-sqlite sqlite3]
//
// Both sides start from raw orders and compute recency, frequency and
// monetary per customer (purchases only, dated on or before as-of) and the
// scores 1 + floor(5·w/N), where w counts customers strictly worse; SQL's
// RANK() − 1 is exactly w. Frequency follows the engine's tie rule: when
// more than a fifth of the buyers bought once, F is 1 for them and
// 2 + floor(4·w'/N') for the N' repeat buyers (w' ranked among those), so
// the query ranks repeat buyers in their own partition. The sqlite timing covers only the query: the
// CSV import and a covering index on (cid, status, day, amount) are built
// beforehand, which favours sqlite. The Go timing is a full Engine.Run
// with one rfm definition (features, scores, groups, KPIs and warnings).
// The scores of both sides are compared customer by customer.
//
// It is a benchmark harness, not part of the product: it writes to a
// temporary directory and runs the sqlite3 binary.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/segconn/connector/core/segment"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	customers := flag.Int("customers", 1_000_000, "customers to generate")
	perCustomer := flag.Float64("orders", 10, "mean orders per customer")
	runs := flag.Int("runs", 3, "timed Go runs (the fastest is reported)")
	sqlite := flag.String("sqlite", "sqlite3", "sqlite3 shell binary")
	seed := flag.Uint64("seed", 42, "generator seed")
	flag.Parse()
	if _, err := exec.LookPath(*sqlite); err != nil {
		return fmt.Errorf("finding %s (apt-get install -y sqlite3): %w", *sqlite, err)
	}
	asOf := time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()

	start := time.Now()
	ds := segment.Generate(segment.GenConfig{Customers: *customers, OrdersPerCustomer: *perCustomer, Seed: *seed, AsOf: asOf})
	orders := 0
	for i := range ds.Customers {
		orders += len(ds.Customers[i].Orders)
	}
	fmt.Printf("generated %d customers, %d orders in %v (GOMAXPROCS %d)\n", len(ds.Customers), orders, time.Since(start).Round(time.Millisecond), runtime.GOMAXPROCS(0))

	rfmDefs, err := segment.ParseDefinitions([]any{map[string]any{"name": "rfm", "kind": "rfm"}})
	if err != nil {
		return err
	}
	eng, err := segment.NewEngine(rfmDefs, segment.Options{})
	if err != nil {
		return err
	}
	allDefs, err := segment.ParseDefinitions([]any{
		map[string]any{"name": "rfm", "kind": "rfm", "holdout_percent": 10},
		map[string]any{"name": "value", "kind": "value"},
		map[string]any{"name": "behavior", "kind": "behavioral"},
		map[string]any{"name": "stage", "kind": "lifecycle"},
		map[string]any{"name": "clv", "kind": "predictive"},
		map[string]any{"name": "clusters", "kind": "cluster"},
		map[string]any{"name": "de-mobile", "kind": "rule", "params": map[string]any{"expr": `country == "DE" and device == "mobile" and monetary > 100`}},
	})
	if err != nil {
		return err
	}
	all, err := segment.NewEngine(allDefs, segment.Options{})
	if err != nil {
		return err
	}
	runtime.GC()
	t0 := time.Now()
	full, err := all.Run(ctx, ds, asOf)
	if err != nil {
		return fmt.Errorf("running every kind: %w", err)
	}
	fmt.Printf("go engine, all seven kinds: %v (%d segments)\n", time.Since(t0).Round(time.Millisecond), len(full.Segments))
	full = nil
	fmt.Printf("peak resident memory of this process so far (data + runs): %s\n", peakRSS())

	dir, err := os.MkdirTemp("", "rfm-sqlite-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	csvPath := filepath.Join(dir, "orders.csv")
	if err := writeCSV(csvPath, ds); err != nil {
		return err
	}
	db := filepath.Join(dir, "orders.db")
	t0 = time.Now()
	setup := fmt.Sprintf(`CREATE TABLE orders(cid INTEGER, day INTEGER, status INTEGER, amount INTEGER);
.mode csv
.import %s orders
CREATE INDEX orders_cover ON orders(cid, status, day, amount);
ANALYZE;
`, csvPath)
	if out, err := sqliteRun(*sqlite, db, setup); err != nil {
		return fmt.Errorf("importing into sqlite: %w: %s", err, out)
	}
	fmt.Printf("sqlite import and index (not timed in the ratio): %v\n", time.Since(t0).Round(time.Millisecond))
	day := segment.DayOf(asOf)
	query := fmt.Sprintf(`.mode csv
.output %s
WITH f AS (
  SELECT cid, %d - MAX(day) AS rec, COUNT(*) AS freq, SUM(amount) AS mon
  FROM orders WHERE status = 0 AND amount >= 0 AND day <= %d GROUP BY cid
), n AS (SELECT COUNT(*) AS n, SUM(freq = 1) AS once FROM f)
SELECT cid,
  1 + 5 * (RANK() OVER (ORDER BY rec DESC) - 1) / n,
  CASE WHEN 5 * once <= n THEN 1 + 5 * (RANK() OVER (ORDER BY freq) - 1) / n
       WHEN freq = 1 THEN 1
       ELSE 2 + 4 * (RANK() OVER (PARTITION BY freq > 1 ORDER BY freq) - 1) / (n - once) END,
  1 + 5 * (RANK() OVER (ORDER BY mon) - 1) / n
FROM f, n;
`, filepath.Join(dir, "scores.csv"), day, day)
	// alternate the two sides so that both see the same load on a shared
	// machine, and keep the fastest run of each
	var res *segment.Result
	bestGo, bestGo1, bestSQL := time.Duration(1<<63-1), time.Duration(1<<63-1), time.Duration(1<<63-1)
	one, err := segment.NewEngine(rfmDefs, segment.Options{Workers: 1})
	if err != nil {
		return err
	}
	cpuGo, cpuSQL := time.Duration(1<<63-1), time.Duration(1<<63-1)
	for i := 0; i < *runs; i++ {
		res = nil
		runtime.GC()
		t0, c0 := time.Now(), cpuTime()
		res, err = eng.Run(ctx, ds, asOf)
		if err != nil {
			return fmt.Errorf("running the engine: %w", err)
		}
		bestGo = min(bestGo, time.Since(t0))
		cpuGo = min(cpuGo, cpuTime()-c0)
		runtime.GC()
		t0 = time.Now()
		if _, err := one.Run(ctx, ds, asOf); err != nil {
			return fmt.Errorf("running the engine: %w", err)
		}
		bestGo1 = min(bestGo1, time.Since(t0))
		t0 = time.Now()
		out, cpu, err := sqliteTimed(*sqlite, db, query)
		if err != nil {
			return fmt.Errorf("scoring in sqlite: %w: %s", err, out)
		}
		bestSQL = min(bestSQL, time.Since(t0))
		cpuSQL = min(cpuSQL, cpu)
		fmt.Printf("after round %d, best so far: go %v, go on one core %v, sqlite3 %v\n", i+1, bestGo.Round(time.Millisecond), bestGo1.Round(time.Millisecond), bestSQL.Round(time.Millisecond))
	}

	mismatch, compared, err := compare(filepath.Join(dir, "scores.csv"), res)
	if err != nil {
		return err
	}
	fmt.Printf("scores compared for %d customers: %d differ\n", compared, mismatch)
	fmt.Printf("best of %d: go engine (rfm only, %d workers) %v, on one core %v, sqlite3 query %v\n", *runs, runtime.GOMAXPROCS(0), bestGo.Round(time.Millisecond), bestGo1.Round(time.Millisecond), bestSQL.Round(time.Millisecond))
	fmt.Printf("ratio sqlite3 / go: %.1fx (one core: %.1fx)\n", float64(bestSQL)/float64(bestGo), float64(bestSQL)/float64(bestGo1))
	fmt.Printf("cpu time: go %v, sqlite3 %v, ratio %.1fx (less sensitive to other load on the machine)\n", cpuGo.Round(time.Millisecond), cpuSQL.Round(time.Millisecond), float64(cpuSQL)/float64(cpuGo))
	if mismatch > 0 {
		return errors.New("the two sides disagree")
	}
	return nil
}

func writeCSV(path string, ds *segment.Dataset) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	buf := make([]byte, 0, 64)
	for i := range ds.Customers {
		c := &ds.Customers[i]
		cid := strings.TrimPrefix(c.ID, "c")
		for _, o := range c.Orders {
			buf = append(buf[:0], cid...)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(o.Day), 10)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(o.Status), 10)
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, o.Amount, 10)
			buf = append(buf, '\n')
			w.Write(buf)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

func sqliteRun(bin, db, script string) ([]byte, error) {
	cmd := exec.Command(bin, "-batch", "-bail", db)
	cmd.Stdin = strings.NewReader(script)
	return cmd.CombinedOutput()
}

// sqliteTimed runs a script and returns the shell's user+system CPU time.
func sqliteTimed(bin, db, script string) ([]byte, time.Duration, error) {
	cmd := exec.Command(bin, "-batch", "-bail", db)
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, 0, err
	}
	return out, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func compare(path string, res *segment.Result) (mismatch, compared int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ",")
		if len(p) != 4 {
			return 0, 0, fmt.Errorf("reading sqlite scores: line %q", sc.Text())
		}
		i, ok := res.Lookup("c" + p[0])
		if !ok {
			return 0, 0, fmt.Errorf("sqlite scored unknown customer %s", p[0])
		}
		s, ok := res.RFM(i)
		compared++
		if !ok || strconv.Itoa(int(s.R)) != p[1] || strconv.Itoa(int(s.F)) != p[2] || strconv.Itoa(int(s.M)) != p[3] {
			if mismatch < 5 {
				fmt.Printf("  customer c%s: sqlite %s%s%s, go %s\n", p[0], p[1], p[2], p[3], s.Code())
			}
			mismatch++
		}
	}
	scored := 0
	for i := 0; i < res.Len(); i++ {
		if _, ok := res.RFM(i); ok {
			scored++
		}
	}
	if scored != compared {
		return mismatch, compared, fmt.Errorf("go scored %d customers, sqlite %d", scored, compared)
	}
	return mismatch, compared, sc.Err()
}

// peakRSS reads VmHWM (peak resident set size) from /proc/self/status.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	lines := strings.Split(string(b), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "VmHWM:") })
	if i < 0 {
		return "unknown"
	}
	return strings.TrimSpace(strings.TrimPrefix(lines[i], "VmHWM:"))
}
