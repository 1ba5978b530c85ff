package plots

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curves draws line plots of several series on one set of axes, one colour
// per series, with a legend placed where it covers no data.
//
// It returns an error when there is no series, when a series has no points,
// or when a series' X and Y lengths differ. A series whose points are all
// non-finite is kept in the legend, marked "(no finite points)".
func Curves(series []Series, opt CurveOptions) (*plot.Plot, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("plots: Curves needs at least one series, got none: %w", errNoData)
	}
	w, h := opt.size(defaultWidthIn, defaultHeightIn)
	styles := make([]lineLook, len(series))
	for i := range series {
		styles[i] = lookFor(i)
	}
	return curvesPlot(series, styles, opt, w, h)
}

// lineLook is the colour and dash pattern of one series.
type lineLook struct {
	color  color.NRGBA
	dashes []vg.Length
}

// lookFor returns the look of the i-th distinct series.
func lookFor(i int) lineLook {
	return lineLook{
		color:  palette[i%len(palette)],
		dashes: dashes[(i/len(palette))%len(dashes)],
	}
}

// checkSeries returns an error naming the series if it cannot be drawn.
func checkSeries(i int, s Series) error {
	name := s.Name
	if name == "" {
		name = "#" + strconv.Itoa(i)
	}
	if len(s.X) != len(s.Y) {
		return fmt.Errorf("plots: series %q: X has %d values but Y has %d; they must pair up", name, len(s.X), len(s.Y))
	}
	if len(s.X) == 0 {
		return fmt.Errorf("plots: series %q is empty (no points): %w", name, errNoData)
	}
	return nil
}

// curvesPlot builds the line plot for Curves and for each panel of
// SavePanels; w and h (inches) are the size it will be drawn at, used to
// choose where the legend goes.
func curvesPlot(series []Series, looks []lineLook, opt CurveOptions, w, h float64) (*plot.Plot, error) {
	for i, s := range series {
		if err := checkSeries(i, s); err != nil {
			return nil, err
		}
	}
	p := optPlot(opt)

	leg := newLegend()
	var paths [][]xy
	smooth := opt.Smooth >= 2
	named := 0
	for _, s := range series {
		if s.Name != "" {
			named++
		}
	}
	for i, s := range series {
		xs, ys := cleanPoints(s.X, s.Y, opt.LogY)
		look := looks[i]
		width := vg.Points(1.5)
		if len(xs) > 300 {
			width = vg.Points(1) // dense noisy curves turn into solid bands otherwise
		}
		main := &curve{xs: xs, ys: ys, line: draw.LineStyle{
			Color: look.color, Width: width, Dashes: look.dashes,
		}, dot: vg.Points(2)}
		if smooth {
			raw := &curve{xs: xs, ys: ys, line: draw.LineStyle{
				Color: withAlpha(look.color, 70), Width: vg.Points(1), Dashes: look.dashes,
			}, dot: vg.Points(1.5)}
			p.Add(raw)
			paths = append(paths, raw.paths()...)
			main = &curve{xs: xs, ys: movingAverage(ys, opt.Smooth), line: draw.LineStyle{
				Color: look.color, Width: vg.Points(1.8), Dashes: look.dashes,
			}, dot: vg.Points(2)}
		}
		p.Add(main)
		paths = append(paths, main.paths()...)

		name := s.Name
		if name == "" && len(series) > 1 {
			name = "series " + strconv.Itoa(i+1)
		}
		if !main.hasPoints() && name != "" {
			name += " (no finite points)"
		}
		if name != "" && (named > 0 || len(series) > 1) {
			leg.Add(name, main)
		}
	}
	fixRange(&p.X, false)
	if opt.SkipTransient > 0 {
		skipTransient(&p.Y, series, opt)
	}
	fixRange(&p.Y, opt.LogY)
	placeLegend(p, leg, paths, w, h)
	return p, nil
}

// skipTransient sets the y-range from the points after the first
// opt.SkipTransient fraction of each long series (short series count whole),
// with a 5% margin.
func skipTransient(a *plot.Axis, series []Series, opt CurveOptions) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range series {
		_, ys := cleanPoints(s.X, s.Y, opt.LogY)
		from := 0
		if len(ys) >= 20 {
			from = int(math.Ceil(opt.SkipTransient * float64(len(ys))))
		}
		for _, y := range ys[from:] {
			if !math.IsNaN(y) {
				lo, hi = math.Min(lo, y), math.Max(hi, y)
			}
		}
	}
	if lo > hi {
		return
	}
	pad := 0.05 * (hi - lo)
	if opt.LogY {
		a.Min, a.Max = lo/1.05, hi*1.05
		return
	}
	a.Min, a.Max = lo-pad, hi+pad
}

// cleanPoints copies x and y, turning every point that cannot be drawn
// (non-finite, or non-positive on a log axis) into a NaN gap.
func cleanPoints(x, y []float64, logY bool) (xs, ys []float64) {
	xs = make([]float64, len(x))
	ys = make([]float64, len(y))
	for i := range x {
		if !finite(x[i]) || !finite(y[i]) || (logY && y[i] <= 0) {
			xs[i], ys[i] = math.NaN(), math.NaN()
			continue
		}
		xs[i], ys[i] = x[i], y[i]
	}
	return xs, ys
}

// movingAverage returns the centred moving average of ys over window
// points. NaN entries are gaps: they stay NaN and are left out of their
// neighbours' averages, so a spike of NaNs neither propagates nor drags
// the mean to zero. The window shrinks at the ends of the series.
func movingAverage(ys []float64, window int) []float64 {
	n := len(ys)
	sum := make([]float64, n+1) // prefix sums of the valid values
	cnt := make([]int, n+1)
	for i, v := range ys {
		sum[i+1], cnt[i+1] = sum[i], cnt[i]
		if !math.IsNaN(v) {
			sum[i+1] += v
			cnt[i+1]++
		}
	}
	out := make([]float64, n)
	for i, v := range ys {
		if math.IsNaN(v) {
			out[i] = math.NaN()
			continue
		}
		lo := max(0, i-(window-1)/2)
		hi := min(n, i+window/2+1)
		out[i] = (sum[hi] - sum[lo]) / float64(cnt[hi]-cnt[lo])
	}
	return out
}

// xy is one point in data coordinates.
type xy struct{ x, y float64 }

// curve is a polyline that breaks at NaN points. gonum's plotter.Line would
// connect straight across a gap, and would panic on a log axis at the first
// non-positive value.
type curve struct {
	xs, ys []float64 // NaN marks a gap
	line   draw.LineStyle
	dot    vg.Length // radius of the dot drawn for an isolated point
}

// paths returns the unbroken runs of the curve.
func (cv *curve) paths() [][]xy {
	var out [][]xy
	var run []xy
	for i := range cv.xs {
		if math.IsNaN(cv.xs[i]) || math.IsNaN(cv.ys[i]) {
			if len(run) > 0 {
				out = append(out, run)
				run = nil
			}
			continue
		}
		run = append(run, xy{cv.xs[i], cv.ys[i]})
	}
	if len(run) > 0 {
		out = append(out, run)
	}
	return out
}

// hasPoints reports whether any point of the curve can be drawn.
func (cv *curve) hasPoints() bool {
	for i := range cv.xs {
		if !math.IsNaN(cv.xs[i]) && !math.IsNaN(cv.ys[i]) {
			return true
		}
	}
	return false
}

// Plot implements plot.Plotter.
func (cv *curve) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for _, run := range cv.paths() {
		if len(run) == 1 {
			if cv.dot > 0 {
				pt := vg.Point{X: trX(run[0].x), Y: trY(run[0].y)}
				c.DrawGlyph(draw.GlyphStyle{Color: cv.line.Color, Radius: cv.dot, Shape: draw.CircleGlyph{}}, pt)
			}
			continue
		}
		pts := make([]vg.Point, len(run))
		for i, q := range run {
			pts[i] = vg.Point{X: trX(q.x), Y: trY(q.y)}
		}
		c.StrokeLines(cv.line, c.ClipLinesXY(decimate(pts, vg.Points(0.25)))...)
	}
}

// decimate thins a long polyline for drawing: consecutive points within
// one bucket of x width collapse to the first, lowest, highest and last of
// them, which draws the same envelope. A million-step loss curve would
// otherwise take seconds to rasterize for a few hundred pixel columns.
func decimate(pts []vg.Point, bucket vg.Length) []vg.Point {
	if len(pts) < 4096 {
		return pts
	}
	out := make([]vg.Point, 0, 4096)
	for i := 0; i < len(pts); {
		b := math.Floor(float64(pts[i].X / bucket))
		lo, hi, j := i, i, i
		for ; j < len(pts) && math.Floor(float64(pts[j].X/bucket)) == b; j++ {
			if pts[j].Y < pts[lo].Y {
				lo = j
			}
			if pts[j].Y > pts[hi].Y {
				hi = j
			}
		}
		keep := []int{i, min(lo, hi), max(lo, hi), j - 1}
		for k, idx := range keep {
			if k == 0 || idx != keep[k-1] {
				out = append(out, pts[idx])
			}
		}
		i = j
	}
	return out
}

// DataRange implements plot.DataRanger over the drawable points only; with
// none it returns an empty (inverted) range that leaves the axes untouched.
func (cv *curve) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for i := range cv.xs {
		x, y := cv.xs[i], cv.ys[i]
		if math.IsNaN(x) || math.IsNaN(y) {
			continue
		}
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
	}
	return xmin, xmax, ymin, ymax
}

// Thumbnail implements plot.Thumbnailer.
func (cv *curve) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	sty := cv.line
	sty.Width = max(sty.Width, vg.Points(2))
	c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
}
