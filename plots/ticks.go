package plots

import (
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
)

// niceTicks places about n labelled ticks at round steps with unlabelled minor ticks between. gonum's
// DefaultTicks aims at three labels, which leaves a loss axis reading just
// "80, 160, 240".
type niceTicks struct{ n int }

// Ticks implements plot.Ticker.
func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || !finite(lo) || !finite(hi) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	step, lead := niceStep(hi-lo, max(2, t.n))
	minor := step / 5
	if lead == 2 {
		minor = step / 4
	}
	maxAbs := math.Max(math.Abs(lo), math.Abs(hi))
	var ticks []plot.Tick
	// Work in integer multiples of the minor step so that rounding error
	// cannot accumulate or make a major tick miss its label.
	perMajor := int(math.Round(step / minor))
	first := int(math.Ceil(lo/minor - 1e-9))
	last := int(math.Floor(hi/minor + 1e-9))
	for k := first; k <= last; k++ {
		v := float64(k) * minor
		tk := plot.Tick{Value: v}
		if k%perMajor == 0 {
			tk.Label = formatTick(v, step, maxAbs)
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

// niceStep returns the round step (1, 2, 2.5 or 5 times a power of ten)
// that puts closest to n labels on a span, and its leading digit. A step of
// 2.5 needs a decimal place below 10, so there it must win clearly.
func niceStep(span float64, n int) (step, lead float64) {
	mag := math.Pow10(int(math.Floor(math.Log10(span / float64(n)))))
	best := math.Inf(1)
	for _, scale := range []float64{mag / 10, mag, mag * 10} {
		for _, m := range []float64{1, 2, 2.5, 5} {
			s := m * scale
			score := math.Abs(span/s - float64(n))
			if m == 2.5 && decimals(s) > 0 {
				score += 0.75
			}
			if score < best {
				best, step, lead = score, s, m
			}
		}
	}
	return step, lead
}

// formatTick formats v with just the digits that step needs, so all labels
// on an axis have the same precision ("0.5, 1.0, 1.5"), switching to
// exponent form for very large or very small magnitudes.
func formatTick(v, step, maxAbs float64) string {
	if math.Abs(v) < step*1e-9 {
		v = 0 // not "-0.0" or "1e-17"
	}
	if v != 0 && (maxAbs >= 1e6 || maxAbs < 1e-3) {
		sig := int(math.Floor(math.Log10(maxAbs))) - int(math.Floor(math.Log10(step))) + 1
		sig += decimals(step / math.Pow10(int(math.Floor(math.Log10(step)))))
		return strconv.FormatFloat(v, 'g', max(1, sig), 64)
	}
	return strconv.FormatFloat(v, 'f', decimals(step), 64)
}

// decimals returns how many decimal places x needs (at most 12).
func decimals(x float64) int {
	for p := 0; p < 12; p++ {
		s := x * math.Pow10(p)
		if math.Abs(s-math.Round(s)) < 1e-9*math.Max(1, math.Abs(s)) {
			return p
		}
	}
	return 12
}

// logTicks labels a log axis readably whatever its span. gonum's LogTicks
// labels only powers of ten, so a loss falling from 180 to 95 would get an
// axis with no numbers at all. It labels powers of ten when at least three
// fall in range, else 1-2-5 multiples when three of those do; a narrower
// span gets round linear steps, which still sit correctly on the log axis.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || lo <= 0 || !finite(lo) || !finite(hi) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	elo := int(math.Floor(math.Log10(lo)))
	ehi := int(math.Ceil(math.Log10(hi)))
	// Label every step-th power of ten so at most ~6 decades carry labels.
	step := max(1, (ehi-elo+5)/6)
	sets := [][]int{{1}, {1, 2, 5}}
	if step > 1 {
		sets = sets[:1] // many decades: powers of ten are plenty
	}
	for _, set := range sets {
		var ticks []plot.Tick
		labels := 0
		for e := elo; e <= ehi; e++ {
			for m := 1; m <= 9; m++ {
				v := float64(m) * math.Pow10(e)
				if v < lo*(1-1e-9) || v > hi*(1+1e-9) || (step > 1 && m != 1) {
					continue
				}
				t := plot.Tick{Value: v}
				if slices.Contains(set, m) && (e-elo)%step == 0 {
					t.Label = strconv.FormatFloat(v, 'g', 4, 64)
					labels++
				}
				ticks = append(ticks, t)
			}
		}
		if labels >= 3 || (step > 1 && labels >= 2) {
			return ticks
		}
	}
	return niceTicks{n: 4}.Ticks(lo, hi)
}
