package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segconn/connector/internal/store"
	"github.com/segconn/connector/plugins/sdk/adapter"
	"github.com/segconn/connector/plugins/sdk/domain"
)

// CrashEnv names the environment variable that turns a test binary into
// the crash child; its value tells the child which store to open.
const CrashEnv = "STORETEST_CRASH_CHILD"

// crashBatch is the number of contacts (and as many orders) per batch.
const crashBatch = 800

func crashPage(batch int) []adapter.Change {
	chs := make([]adapter.Change, 0, 2*crashBatch)
	for j := 0; j < crashBatch; j++ {
		id := fmt.Sprintf("b%d-%d", batch, j)
		chs = append(chs, contact("woocommerce", id, id+"@crash.test", "Crash", t0))
		chs = append(chs, order("woocommerce", "o"+id, ref("woocommerce", domain.ObjectContact, id), "", t0, int64(j)))
	}
	return chs
}

// CrashChild writes batches until it is killed. Each batch is one
// ApplyPage whose cursor names the batch; it prints "start N" before and
// "done N" after each one.
func CrashChild(t *testing.T, s store.Store) {
	ctx := context.Background()
	cur, err := s.Cursor(ctx, "woocommerce", "", "contact")
	if err != nil {
		t.Fatal(err)
	}
	first := 0
	if cur != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(cur, "batch-"))
		if err != nil {
			t.Fatalf("cursor %q", cur)
		}
		first = n + 1
	}
	for batch := first; batch < first+1000; batch++ {
		fmt.Printf("CRASH start %d\n", batch)
		if _, err := s.ApplyPage(ctx, "woocommerce", "", "contact", crashPage(batch), nil, fmt.Sprintf("batch-%d", batch)); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("CRASH done %d\n", batch)
	}
}

// RunCrash re-executes the test binary running childTest with CrashEnv set
// to target and SIGKILLs it in the middle of a batch, three times at
// different points of a batch, each time once two more batches are
// stored. After each kill it reopens the store and checks that every batch
// is wholly there or wholly absent and that the cursor names the last
// whole batch.
func RunCrash(t *testing.T, childTest, target string, reopen func(t *testing.T) store.Store) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	for round, frac := range []float64{0.3, 0.6, 0.9} {
		inFlight, done := killChild(t, childTest, target, frac)
		t.Logf("round %d: killed the child %.0f%% into batch %d; batch %d was reported done", round, frac*100, inFlight, done)
		s := reopen(t)
		checkCrash(t, s, inFlight, done)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// killChild runs the child until it has stored two batches, then kills it
// frac of the way into the next one.
func killChild(t *testing.T, childTest, target string, frac float64) (inFlight, done int) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+childTest+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), CrashEnv+"="+target)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	var started time.Time
	var lastBatch time.Duration
	inFlight, done = -1, -1
	stored := 0
	for lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 3 || f[0] != "CRASH" {
			continue
		}
		n, _ := strconv.Atoi(f[2])
		switch f[1] {
		case "start":
			inFlight = n
			if stored >= 2 {
				time.Sleep(time.Duration(float64(lastBatch) * frac))
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				_ = cmd.Wait()
				for lines.Scan() { // what the child printed before dying
					if f := strings.Fields(lines.Text()); len(f) == 3 && f[1] == "done" {
						done, _ = strconv.Atoi(f[2])
					}
				}
				return inFlight, done
			}
			started = time.Now()
		case "done":
			done = n
			stored++
			lastBatch = time.Since(started)
		}
	}
	_ = cmd.Wait()
	t.Fatalf("child ended before it could be killed (last done batch %d): %v", done, lines.Err())
	return
}

func checkCrash(t *testing.T, s store.Store, inFlight, done int) {
	t.Helper()
	ctx := context.Background()
	cur, err := s.Cursor(ctx, "woocommerce", "", "contact")
	if err != nil {
		t.Fatal(err)
	}
	last := -1
	if cur != "" {
		last, err = strconv.Atoi(strings.TrimPrefix(cur, "batch-"))
		if err != nil {
			t.Fatalf("cursor %q", cur)
		}
	}
	if last < done || last > inFlight {
		t.Errorf("cursor names batch %d; want between the last reported batch %d and the killed batch %d", last, done, inFlight)
	}
	profiles := map[int]int{}
	orders := map[int]int{}
	err = s.EachProfile(ctx, func(po store.ProfileOrders) error {
		for _, r := range po.Profile.Refs {
			b, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(r.ID, "-", 2)[0], "b"))
			profiles[b]++
		}
		for _, o := range po.Orders {
			b, _ := strconv.Atoi(strings.TrimPrefix(strings.SplitN(o.Ref.ID, "-", 2)[0], "ob"))
			orders[b]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b <= inFlight; b++ {
		wantN := 0
		if b <= last {
			wantN = crashBatch
		}
		if profiles[b] != wantN || orders[b] != wantN {
			t.Errorf("batch %d: %d profiles and %d orders stored, want %d of each (all or nothing; cursor at batch %d)", b, profiles[b], orders[b], wantN, last)
		}
	}
	for b := range profiles {
		if b > inFlight {
			t.Errorf("batch %d stored but never started", b)
		}
	}
}
