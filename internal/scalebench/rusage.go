package scalebench

import (
	"os"
	"syscall"
	"time"
)

// usage is the process's CPU time so far and its peak resident set.
type usage struct {
	cpu    time.Duration // user + system
	maxRSS int64         // bytes
}

func readUsage() (usage, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}, err
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// Linux reports ru_maxrss in KiB.
	return usage{cpu: cpu, maxRSS: int64(ru.Maxrss) * 1024}, nil
}

// resetPeakRSS asks Linux to restart the process's peak-RSS high-water
// mark (clear_refs value 5), so each phase reports its own peak. Where
// that is not possible the peak is the process's since it started, which
// the report says.
func resetPeakRSS() bool {
	f, err := os.OpenFile("/proc/self/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	_, err = f.WriteString("5")
	return err == nil
}
