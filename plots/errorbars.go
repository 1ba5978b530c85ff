package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Group is one bar of an ErrorBars comparison: the summary of N runs (seeds,
// say) under one setting.
type Group struct {
	Label               string
	Mean, Std, Min, Max float64
	N                   int
}

// ErrorBars compares groups: a dot at each Mean with a ±Std bar, a thin
// grey Min–Max range where Max > Min, and "n=N" above each group when N > 0.
//
// If every Label parses as a number (β values, latent sizes) the x-axis is
// numeric, the means are joined by a faint line in x order, and up to 12
// distinct values are the tick labels; positive values spread over a factor
// of 8 or more that are spaced more evenly in log than linear terms
// (0.25, 0.5, 1, 2, 4, 8) get a log x-axis. Otherwise the labels are
// categories in the order given. A group with a non-finite Mean
// is skipped; a NaN Std draws no bar. A negative Std or Max < Min is an
// error naming the group.
func ErrorBars(groups []Group, opt CurveOptions) (*plot.Plot, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if opt.Smooth != 0 {
		return nil, fmt.Errorf("plots: ErrorBars does not support Smooth (got %d); leave it zero", opt.Smooth)
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("plots: ErrorBars has no groups: %w", errNoData)
	}
	for _, g := range groups {
		if g.Std < 0 {
			return nil, fmt.Errorf("plots: group %q has Std %g; a standard deviation cannot be negative", g.Label, g.Std)
		}
		if g.Max < g.Min {
			return nil, fmt.Errorf("plots: group %q has Max %g < Min %g", g.Label, g.Max, g.Min)
		}
		if g.N < 0 {
			return nil, fmt.Errorf("plots: group %q has N %d; a count cannot be negative", g.Label, g.N)
		}
	}

	xs := make([]float64, len(groups))
	numeric := true
	for i, g := range groups {
		v, err := strconv.ParseFloat(g.Label, 64)
		if err != nil || !finite(v) {
			numeric = false
			break
		}
		xs[i] = v
	}
	if !numeric {
		for i := range xs {
			xs[i] = float64(i)
		}
	}

	p := optPlot(opt)
	eb := &errorBars{groups: groups, xs: xs, logY: opt.LogY, numeric: numeric}
	p.Add(eb)
	if numeric {
		logX := useLogX(xs)
		if logX {
			p.X.Scale = plot.LogScale{}
			p.X.Tick.Marker = logTicks{}
		}
		// A sweep has few settings: label exactly those.
		if ticks := valueTicks(groups, xs); ticks != nil {
			p.X.Tick.Marker = ticks
		}
		fixRange(&p.X, logX)
	} else {
		labels := make([]string, len(groups))
		for i, g := range groups {
			labels[i] = g.Label
		}
		p.NominalX(labels...)
		p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	}
	fixRange(&p.Y, opt.LogY)

	leg := newLegend()
	leg.Add("mean ± std", thumbFunc(eb.meanThumb))
	if eb.anyRange() {
		leg.Add("min – max", thumbFunc(eb.rangeThumb))
	}
	w, h := opt.size(defaultWidthIn, defaultHeightIn)
	placeLegend(p, leg, eb.paths(), w, h)
	return p, nil
}

var (
	rangeColor = color.Gray{Y: 150}
	countStyle = text.Style{Color: color.Gray{Y: 90}, Font: sans(8), XAlign: draw.XCenter, Handler: plot.DefaultTextHandler}
	barCap     = vg.Points(5) // half-width of the ±std caps
)

// errorBars draws the groups of ErrorBars.
type errorBars struct {
	groups  []Group
	xs      []float64
	logY    bool
	numeric bool
}

// ok reports whether v can be drawn on the y-axis.
func (e *errorBars) ok(v float64) bool { return finite(v) && (!e.logY || v > 0) }

// hasRange reports whether group i has a drawable Min–Max range.
func (e *errorBars) hasRange(i int) bool {
	g := e.groups[i]
	return g.Max > g.Min && e.ok(g.Min) && e.ok(g.Max)
}

// anyRange reports whether any group has a drawable Min–Max range.
func (e *errorBars) anyRange() bool {
	for i := range e.groups {
		if e.hasRange(i) {
			return true
		}
	}
	return false
}

// bar returns the drawable ±std interval of group i.
func (e *errorBars) bar(i int) (lo, hi float64, ok bool) {
	g := e.groups[i]
	if !e.ok(g.Mean) || math.IsNaN(g.Std) || g.Std == 0 {
		return 0, 0, false
	}
	lo, hi = g.Mean-g.Std, g.Mean+g.Std
	if e.logY && lo <= 0 {
		lo = g.Mean / 10 // a bar reaching 0 runs off a log axis; show its direction
	}
	return lo, hi, finite(lo) && finite(hi)
}

// top returns the highest drawn value of group i, where "n=N" goes.
func (e *errorBars) top(i int) float64 {
	t := e.groups[i].Mean
	if _, hi, ok := e.bar(i); ok {
		t = math.Max(t, hi)
	}
	if e.hasRange(i) {
		t = math.Max(t, e.groups[i].Max)
	}
	return t
}

// order returns the indices of the drawable groups in x order.
func (e *errorBars) order() []int {
	var idx []int
	for i, g := range e.groups {
		if e.ok(g.Mean) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return e.xs[idx[a]] < e.xs[idx[b]] })
	return idx
}

// paths returns what is drawn, for legend placement.
func (e *errorBars) paths() [][]xy {
	var out [][]xy
	order := e.order()
	if e.numeric && len(order) > 1 {
		var line []xy
		for _, i := range order {
			line = append(line, xy{e.xs[i], e.groups[i].Mean})
		}
		out = append(out, line)
	}
	for _, i := range order {
		x, g := e.xs[i], e.groups[i]
		out = append(out, []xy{{x, g.Mean}})
		if lo, hi, ok := e.bar(i); ok {
			out = append(out, []xy{{x, lo}, {x, hi}})
		}
		if e.hasRange(i) {
			out = append(out, []xy{{x, g.Min}, {x, g.Max}})
		}
	}
	return out
}

// Plot implements plot.Plotter.
func (e *errorBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	order := e.order()
	ink := palette[0]
	if e.numeric && len(order) > 1 {
		pts := make([]vg.Point, len(order))
		for k, i := range order {
			pts[k] = vg.Point{X: trX(e.xs[i]), Y: trY(e.groups[i].Mean)}
		}
		c.StrokeLines(draw.LineStyle{Color: withAlpha(ink, 110), Width: vg.Points(1)}, c.ClipLinesXY(pts)...)
	}
	rangeLine := draw.LineStyle{Color: rangeColor, Width: vg.Points(1)}
	barLine := draw.LineStyle{Color: ink, Width: vg.Points(1.6)}
	for _, i := range order {
		g := e.groups[i]
		x := trX(e.xs[i])
		if e.hasRange(i) {
			lo, hi := trY(g.Min), trY(g.Max)
			c.StrokeLine2(rangeLine, x, lo, x, hi)
			c.StrokeLine2(rangeLine, x-barCap/2, lo, x+barCap/2, lo)
			c.StrokeLine2(rangeLine, x-barCap/2, hi, x+barCap/2, hi)
		}
		if lo, hi, ok := e.bar(i); ok {
			ylo, yhi := trY(lo), trY(hi)
			c.StrokeLine2(barLine, x, ylo, x, yhi)
			c.StrokeLine2(barLine, x-barCap, ylo, x+barCap, ylo)
			c.StrokeLine2(barLine, x-barCap, yhi, x+barCap, yhi)
		}
		c.DrawGlyph(draw.GlyphStyle{Color: ink, Radius: vg.Points(3.2), Shape: draw.CircleGlyph{}}, vg.Point{X: x, Y: trY(g.Mean)})
		if g.N > 0 {
			c.FillText(countStyle, vg.Point{X: x, Y: trY(e.top(i)) + vg.Points(4)}, "n="+strconv.Itoa(g.N))
		}
	}
}

// DataRange implements plot.DataRanger.
func (e *errorBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, path := range e.paths() {
		for _, q := range path {
			xmin, xmax = math.Min(xmin, q.x), math.Max(xmax, q.x)
			ymin, ymax = math.Min(ymin, q.y), math.Max(ymax, q.y)
		}
	}
	return xmin, xmax, ymin, ymax
}

// GlyphBoxes implements plot.GlyphBoxer: the "n=N" labels and the caps
// stick out of the data range, so gonum must pad the axes for them.
func (e *errorBars) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	var boxes []plot.GlyphBox
	for _, i := range e.order() {
		x := p.X.Norm(e.xs[i])
		boxes = append(boxes, plot.GlyphBox{X: x, Y: p.Y.Norm(e.groups[i].Mean), Rectangle: vg.Rectangle{
			Min: vg.Point{X: -barCap, Y: -vg.Points(3.2)}, Max: vg.Point{X: barCap, Y: vg.Points(3.2)},
		}})
		if e.groups[i].N > 0 {
			label := "n=" + strconv.Itoa(e.groups[i].N)
			w, h := countStyle.Width(label), countStyle.Height(label)
			boxes = append(boxes, plot.GlyphBox{X: x, Y: p.Y.Norm(e.top(i)), Rectangle: vg.Rectangle{
				Min: vg.Point{X: -w / 2, Y: 0}, Max: vg.Point{X: w / 2, Y: vg.Points(4) + h},
			}})
		}
	}
	return boxes
}

// meanThumb draws the legend sample of a mean with its ±std bar.
func (e *errorBars) meanThumb(c *draw.Canvas) {
	ctr := c.Center()
	h := (c.Max.Y - c.Min.Y) / 2
	sty := draw.LineStyle{Color: palette[0], Width: vg.Points(1.6)}
	c.StrokeLine2(sty, ctr.X, ctr.Y-h, ctr.X, ctr.Y+h)
	c.DrawGlyph(draw.GlyphStyle{Color: palette[0], Radius: vg.Points(3.2), Shape: draw.CircleGlyph{}}, ctr)
}

// rangeThumb draws the legend sample of a Min–Max range.
func (e *errorBars) rangeThumb(c *draw.Canvas) {
	ctr := c.Center()
	h := (c.Max.Y - c.Min.Y) / 2
	c.StrokeLine2(draw.LineStyle{Color: rangeColor, Width: vg.Points(1)}, ctr.X, ctr.Y-h, ctr.X, ctr.Y+h)
}

// thumbFunc adapts a function to plot.Thumbnailer.
type thumbFunc func(c *draw.Canvas)

// Thumbnail implements plot.Thumbnailer.
func (f thumbFunc) Thumbnail(c *draw.Canvas) { f(c) }

// useLogX reports whether x values are better shown on a log axis: all
// positive, spanning at least a factor of 8, and spaced more evenly in log
// than in linear terms, as doubling sweeps are.
func useLogX(xs []float64) bool {
	u := slices.Clone(xs)
	slices.Sort(u)
	u = slices.Compact(u)
	if len(u) < 3 || u[0] <= 0 || u[len(u)-1]/u[0] < 8 {
		return false
	}
	logs := make([]float64, len(u))
	for i, v := range u {
		logs[i] = math.Log(v)
	}
	return gapSpread(logs) < gapSpread(u)
}

// gapSpread returns the coefficient of variation of the gaps between
// consecutive sorted values: 0 for evenly spaced values.
func gapSpread(v []float64) float64 {
	n := float64(len(v) - 1)
	var sum, sq float64
	for i := 1; i < len(v); i++ {
		g := v[i] - v[i-1]
		sum += g
		sq += g * g
	}
	mean := sum / n
	return math.Sqrt(math.Max(0, sq/n-mean*mean)) / mean
}

// valueTicks returns one labelled tick per distinct x value, labelled as
// the group was, or nil when there are too many values to label them all.
func valueTicks(groups []Group, xs []float64) plot.ConstantTicks {
	seen := map[float64]bool{}
	var ticks plot.ConstantTicks
	for i, x := range xs {
		if seen[x] {
			continue
		}
		seen[x] = true
		ticks = append(ticks, plot.Tick{Value: x, Label: groups[i].Label})
	}
	if len(ticks) > 12 {
		return nil
	}
	return ticks
}
