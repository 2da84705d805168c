package report

import (
	"math"
	"strings"
	"testing"

	"github.com/segconn/connector/core/lift"
)

func TestROIComesFromIncrementalRevenue(t *testing.T) {
	l := SegmentLift{Segment: "Win-back", Currency: "EUR", Result: lift.Result{
		Members:    lift.Group{People: 1000, RevenuePerPerson: 5000},
		Conversion: lift.Lift{Absolute: 0.05},
		Revenue:    lift.Lift{Absolute: 300, AbsoluteCI: lift.Interval{Low: 100, High: 500}},
	}}
	// 1,000 members × 3.00 EUR extra each = 3,000 EUR incremental (not the
	// segment's 50,000 EUR of revenue); spend 1,000 EUR.
	r, err := ComputeROI(l, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if r.IncrementalRevenue != 300000 || r.IncrementalRevenueCI.Low != 100000 || r.IncrementalRevenueCI.High != 500000 {
		t.Errorf("incremental revenue %v %+v", r.IncrementalRevenue, r.IncrementalRevenueCI)
	}
	if r.ROI != 2 || r.ROICI.Low != 0 || r.ROICI.High != 4 {
		t.Errorf("roi %v %+v, want 2 (0 to 4)", r.ROI, r.ROICI)
	}
	if r.IncrementalBuyers != 50 || r.CAC != 2000 {
		t.Errorf("buyers %v, CAC %v; want 50 and 20.00 EUR", r.IncrementalBuyers, r.CAC)
	}
	if !strings.HasPrefix(r.Text, "unclear") {
		t.Errorf("an interval touching break-even is not a win: %q", r.Text)
	}
	l.Result.Conversion.Absolute = -0.01
	r, _ = ComputeROI(l, 10000)
	if !math.IsNaN(float64(r.CAC)) || !strings.HasPrefix(r.Text, "pays for itself") {
		t.Errorf("no extra buyers: CAC %v, %q", r.CAC, r.Text)
	}
	if _, err := ComputeROI(l, 0); err == nil {
		t.Error("zero spend accepted")
	}
}
