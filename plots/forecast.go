package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Forecast is a time series and sampled continuations of its beginning, as
// ForecastPlot draws them.
type Forecast struct {
	// Truth is the whole series, one value per step (NaN or ±Inf: missing).
	Truth []float32
	// Prefix is the number of leading steps the forecaster saw;
	// continuations start at step Prefix. 0 draws unconditional samples.
	Prefix int
	// Samples are sampled continuations, all of the same length, sample j's
	// value k being the forecast for step Prefix+k. They may run past the
	// end of Truth.
	Samples [][]float32
	// Band is the lower quantile of the shaded band, whose upper quantile is
	// 1 − Band; 0 means 0.1, the 10–90 % band.
	Band float64
}

// Forecast colours: the truth in black, the forecast in the palette's blue.
var (
	truthColor    = color.NRGBA{A: 0xff}
	forecastColor = palette[0]
)

// ForecastPlot draws a forecast against the truth: the observed prefix as a
// solid black line, the rest of the truth dashed, the per-step median of the
// samples in blue over a shaded band between the Band and 1 − Band
// quantiles, and a dotted vertical line where the forecast starts. Quantiles
// interpolate linearly between order statistics and skip non-finite samples.
// opt sets the labels and size (Smooth, LogY and SkipTransient are refused:
// a forecast is drawn as it is).
func ForecastPlot(f Forecast, opt CurveOptions) (*plot.Plot, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if opt.Smooth != 0 || opt.LogY || opt.SkipTransient != 0 {
		return nil, fmt.Errorf("plots: ForecastPlot draws values as they are: leave Smooth (%d), LogY (%v) and SkipTransient (%v) zero", opt.Smooth, opt.LogY, opt.SkipTransient)
	}
	n := len(f.Truth)
	switch {
	case n == 0:
		return nil, fmt.Errorf("plots: ForecastPlot has no truth: %w", errNoData)
	case f.Prefix < 0 || f.Prefix > n:
		return nil, fmt.Errorf("plots: forecast Prefix %d is outside the %d steps of the truth; use 0..%d", f.Prefix, n, n)
	case len(f.Samples) == 0:
		return nil, fmt.Errorf("plots: ForecastPlot has no sampled continuations: %w", errNoData)
	case f.Band < 0 || f.Band >= 0.5 || math.IsNaN(f.Band):
		return nil, fmt.Errorf("plots: forecast Band %v is invalid: use a lower quantile in (0, 0.5), or 0 for 0.1", f.Band)
	}
	horizon := len(f.Samples[0])
	for j, s := range f.Samples {
		if len(s) != len(f.Samples[0]) || len(s) == 0 {
			return nil, fmt.Errorf("plots: forecast sample %d has %d steps, sample 0 has %d; all must have the same number, at least 1", j, len(s), horizon)
		}
	}
	q := f.Band
	if q == 0 {
		q = 0.1
	}

	steps := make([]float64, max(n, f.Prefix+horizon))
	for i := range steps {
		steps[i] = float64(i)
	}
	truth := make([]float64, n)
	for i, v := range f.Truth {
		truth[i] = float64(v)
	}
	lo, med, hi := quantileBands(f.Samples, q)

	p := newPlot(opt.Title, opt.XLabel, opt.YLabel)
	leg := newLegend()
	fx := steps[f.Prefix : f.Prefix+horizon]
	bandXs, bandLo := cleanPoints(fx, lo, false)
	_, bandHi := cleanPoints(fx, hi, false)
	b := &band{xs: bandXs, lo: bandLo, hi: bandHi, color: withAlpha(forecastColor, 60)}
	p.Add(b)
	leg.Add(fmt.Sprintf("%.0f–%.0f %% of %d samples", 100*q, 100*(1-q), len(f.Samples)), b)
	var paths [][]xy
	add := func(label string, xs, ys []float64, line draw.LineStyle) {
		xs, ys = cleanPoints(xs, ys, false)
		cv := &curve{xs: xs, ys: ys, line: line, dot: vg.Points(2)}
		p.Add(cv)
		paths = append(paths, cv.paths()...)
		if label != "" {
			leg.Add(label, cv)
		}
	}
	solid := draw.LineStyle{Color: truthColor, Width: vg.Points(1.5)}
	if f.Prefix > 0 {
		add("observed", steps[:f.Prefix], truth[:f.Prefix], solid)
	}
	if f.Prefix < n {
		// The held-out truth starts at the last observed step, so the two
		// lines join.
		from := max(f.Prefix-1, 0)
		held := solid
		held.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		held.Color = withAlpha(truthColor, 170)
		add("truth", steps[from:n], truth[from:], held)
	}
	add("median forecast", fx, med, draw.LineStyle{Color: forecastColor, Width: vg.Points(1.8)})
	for k := range horizon {
		paths = append(paths, []xy{{fx[k], lo[k]}, {fx[k], hi[k]}})
	}
	if f.Prefix > 0 {
		p.Add(&vline{x: float64(f.Prefix) - 0.5, line: draw.LineStyle{
			Color: color.Gray{Y: 120}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(1), vg.Points(2)},
		}})
	}
	fixRange(&p.X, false)
	fixRange(&p.Y, false)
	w, h := opt.size(defaultWidthIn, defaultHeightIn)
	placeLegend(p, leg, paths, w, h)
	return p, nil
}

// band fills the area between two curves; NaN points break it.
type band struct {
	xs, lo, hi []float64
	color      color.NRGBA
}

// Plot implements plot.Plotter.
func (b *band) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for start := 0; start < len(b.xs); {
		if math.IsNaN(b.xs[start]) || math.IsNaN(b.lo[start]) || math.IsNaN(b.hi[start]) {
			start++
			continue
		}
		end := start
		for end < len(b.xs) && !math.IsNaN(b.xs[end]) && !math.IsNaN(b.lo[end]) && !math.IsNaN(b.hi[end]) {
			end++
		}
		var pts []vg.Point
		for i := start; i < end; i++ {
			pts = append(pts, vg.Point{X: trX(b.xs[i]), Y: trY(b.lo[i])})
		}
		for i := end - 1; i >= start; i-- {
			pts = append(pts, vg.Point{X: trX(b.xs[i]), Y: trY(b.hi[i])})
		}
		if end-start == 1 { // a lone step: a thin vertical bar
			c.StrokeLine2(draw.LineStyle{Color: b.color, Width: vg.Points(3)}, pts[0].X, pts[0].Y, pts[1].X, pts[1].Y)
		} else {
			c.FillPolygon(b.color, c.ClipPolygonXY(pts))
		}
		start = end
	}
}

// DataRange implements plot.DataRanger.
func (b *band) DataRange() (xmin, xmax, ymin, ymax float64) {
	lo := &curve{xs: b.xs, ys: b.lo}
	hi := &curve{xs: b.xs, ys: b.hi}
	xmin, xmax, ymin, _ = lo.DataRange()
	_, _, _, ymax = hi.DataRange()
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer.
func (b *band) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(b.color, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}

// vline is a vertical line across the data area at x; it does not change
// the axis ranges.
type vline struct {
	x    float64
	line draw.LineStyle
}

// Plot implements plot.Plotter.
func (v *vline) Plot(c draw.Canvas, p *plot.Plot) {
	if v.x < p.X.Min || v.x > p.X.Max {
		return
	}
	x := c.X(p.X.Norm(v.x))
	c.StrokeLine2(v.line, x, c.Min.Y, x, c.Max.Y)
}

// compile-time checks that the forecast plotters fit gonum's interfaces.
var (
	_ plot.Plotter     = (*band)(nil)
	_ plot.DataRanger  = (*band)(nil)
	_ plot.Thumbnailer = (*band)(nil)
	_ plot.Plotter     = (*vline)(nil)
)

// quantileBands returns, per step of the samples, their q, 0.5 and 1 − q
// quantiles (linear interpolation between order statistics, as R's type 4),
// skipping non-finite values; a step with none is NaN.
func quantileBands(samples [][]float32, q float64) (lo, med, hi []float64) {
	horizon := len(samples[0])
	lo, med, hi = make([]float64, horizon), make([]float64, horizon), make([]float64, horizon)
	vals := make([]float64, 0, len(samples))
	for k := range horizon {
		vals = vals[:0]
		for _, s := range samples {
			if v := float64(s[k]); finite(v) {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			lo[k], med[k], hi[k] = math.NaN(), math.NaN(), math.NaN()
			continue
		}
		slices.Sort(vals)
		lo[k] = stat.Quantile(q, stat.LinInterp, vals, nil)
		med[k] = stat.Quantile(0.5, stat.LinInterp, vals, nil)
		hi[k] = stat.Quantile(1-q, stat.LinInterp, vals, nil)
	}
	return lo, med, hi
}
