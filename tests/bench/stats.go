package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// row is one line of docs/BENCHMARKS.md: vulscan's samples beside its anchor's, measured in the
// same run, and the target the issue sets.
type row struct {
	item   string    // what is measured
	unit   string    // "ms", "MB", "req/s", …
	ours   []float64 // vulscan's samples
	anchor string    // what vulscan is compared with; "" when the target is absolute
	base   []float64 // the anchor's samples
	target target
	note   string
}

// target is how a row passes: a ratio of medians at most (or, higher, at least) limit, or a value
// (or the added amount over the anchor) at most limit.
type target struct {
	kind  string // "ratio", "ratio-min", "max", "min", "added-max", ""
	limit float64
}

func (t target) String() string {
	switch t.kind {
	case "ratio":
		return fmt.Sprintf("≤ %g×", t.limit)
	case "ratio-min":
		return fmt.Sprintf("≥ %g×", t.limit)
	case "max":
		return fmt.Sprintf("≤ %g", t.limit)
	case "min":
		return fmt.Sprintf("≥ %g", t.limit)
	case "added-max":
		return fmt.Sprintf("added ≤ %g", t.limit)
	}
	return "—"
}

// median of vals (which it sorts).
func median(vals []float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}

// maxOf is the largest of vals, NaN for none.
func maxOf(vals []float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	return slices.Max(vals)
}

// percentile p (0..100) of vals by the nearest-rank method.
func percentile(vals []float64, p float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}

// spread formats min / median / max.
func spread(vals []float64) string {
	if len(vals) == 0 {
		return "—"
	}
	if len(vals) == 1 {
		return num(vals[0])
	}
	return num(slices.Min(vals)) + " / " + num(median(vals)) + " / " + num(slices.Max(vals))
}

// num prints a figure with three significant digits at most.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v):
		return "—"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// verdict computes the row's comparison figure and whether the target is met.
func (r row) verdict() (figure string, met string) {
	ours := median(r.ours)
	switch r.target.kind {
	case "ratio", "ratio-min":
		ratio := ours / median(r.base)
		ok := ratio <= r.target.limit
		if r.target.kind == "ratio-min" {
			ok = ratio >= r.target.limit
		}
		return fmt.Sprintf("%.2f×", ratio), yesNo(ok)
	case "added-max":
		added := ours - median(r.base)
		return "+" + num(added) + " " + r.unit, yesNo(added <= r.target.limit)
	case "max":
		return num(ours) + " " + r.unit, yesNo(ours <= r.target.limit)
	case "min":
		return num(ours) + " " + r.unit, yesNo(ours >= r.target.limit)
	}
	if len(r.base) > 0 {
		return fmt.Sprintf("%.2f×", ours/median(r.base)), "—"
	}
	return "—", "—"
}

func yesNo(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// table renders rows as a Markdown table.
func table(rows []row) string {
	var b strings.Builder
	b.WriteString("| item | vulscan (min / median / max) | anchor, same run (min / median / max) | ratio or figure | target | result |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rows {
		anchor := "—"
		if r.anchor != "" {
			anchor = r.anchor + ": " + spread(r.base) + " " + r.unit
		}
		figure, met := r.verdict()
		item := r.item
		if r.note != "" {
			item += " (" + r.note + ")"
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s | %s |\n", item, spread(r.ours), r.unit, anchor, figure, r.target, met)
	}
	return b.String()
}
