package main

import (
	"fmt"

	"github.com/segconn/connector/core/segment"
)

// predictionLines are explain's table of a customer's predictions, each
// beside its interval (how sure the model is), or the reason there is
// none.
func predictionLines(p *segment.PredictionDetail) []string {
	iv := func(lo, hi float64, format string) string {
		return fmt.Sprintf("(%.0f%% interval "+format+" to "+format+")", 100*p.Level, lo, hi)
	}
	out := []string{fmt.Sprintf("predictions (%s, next %d days):", p.Model, p.HorizonDays)}
	line := func(name, value, interval string) {
		out = append(out, fmt.Sprintf("    %-20s %-14s %s", name, value, interval))
	}
	var pa, ex, cv string
	if p.PAliveInterval != nil {
		pa = iv(p.PAliveInterval.Lo, p.PAliveInterval.Hi, "%.3f")
	}
	if p.ExpectedInterval != nil {
		ex = iv(p.ExpectedInterval.Lo, p.ExpectedInterval.Hi, "%.2f")
	}
	if p.CLVInterval != nil {
		cv = iv(p.CLVInterval.Lo, p.CLVInterval.Hi, p.Currency+" %.2f")
	}
	line("P(alive)", fmt.Sprintf("%.3f", p.PAlive), pa)
	line("expected purchases", fmt.Sprintf("%.2f", p.ExpectedPurchases), ex)
	line("predicted CLV", fmt.Sprintf("%s %.2f", p.Currency, p.CLV), cv)
	if p.NoInterval != "" {
		out = append(out, "    no interval: "+p.NoInterval)
	}
	return out
}
