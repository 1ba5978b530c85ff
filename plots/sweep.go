package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// RDPoint is one run on the rate–distortion plane: its rate (the KL term,
// nats) and distortion (the reconstruction term, nats), and the group it
// belongs to (a β value, say) for its colour.
type RDPoint struct {
	Rate, Distortion float64
	Group            string
}

// RateDistortion draws runs on the rate–distortion plane (Alemi et al.
// 2018): rate on x, distortion on y, one colour per group (groups that
// parse as numbers in numeric order), with faint dashed lines of constant
// R + D (the negative ELBO at β = 1) behind them. Non-finite points are
// skipped.
func RateDistortion(points []RDPoint, opt CurveOptions) (*plot.Plot, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if opt.LogY || opt.Smooth != 0 {
		return nil, fmt.Errorf("plots: RateDistortion does not support LogY or Smooth; leave them zero")
	}
	if len(points) == 0 {
		return nil, fmt.Errorf("plots: RateDistortion has no points: %w", errNoData)
	}
	groups := groupOrder(points)
	xs, ys := make([]float64, len(points)), make([]float64, len(points))
	class := make([]int, len(points))
	for i, pt := range points {
		xs[i], ys[i], class[i] = pt.Rate, pt.Distortion, slices.Index(groups, pt.Group)
	}
	styles := make([]draw.GlyphStyle, len(groups))
	for i := range styles {
		styles[i] = draw.GlyphStyle{Color: withAlpha(palette[i%len(palette)], 230), Radius: vg.Points(3.5), Shape: shapes[(i/len(palette))%len(shapes)]}
	}
	p := newPlot(opt.Title, opt.XLabel, opt.YLabel)
	sc := &scatter{xs: xs, ys: ys, class: class, styles: styles}
	xmin, xmax, ymin, ymax := sc.DataRange()
	if xmin > xmax {
		return nil, fmt.Errorf("plots: RateDistortion has no finite point: %w", errNoData)
	}
	p.Add(&isoELBO{xmin: xmin, xmax: xmax, ymin: ymin, ymax: ymax})
	p.Add(sc)
	fixRange(&p.X, false)
	fixRange(&p.Y, false)
	// The rate is a KL, never negative: show where zero is, and keep points
	// off the frame.
	pad := 0.04 * (p.X.Max - math.Min(0, p.X.Min))
	p.X.Min, p.X.Max = math.Min(0, p.X.Min)-pad, p.X.Max+pad
	pad = 0.04 * (p.Y.Max - p.Y.Min)
	p.Y.Min, p.Y.Max = p.Y.Min-pad, p.Y.Max+pad
	leg := newLegend()
	leg.ThumbnailWidth = vg.Points(10)
	for i, g := range groups {
		thumb := styles[i]
		thumb.Color = withAlpha(palette[i%len(palette)], 255)
		leg.Add(g, glyphThumb{thumb})
	}
	leg.Add("R + D = const", thumbFunc(func(c *draw.Canvas) {
		y := (c.Min.Y + c.Max.Y) / 2
		c.StrokeLine2(isoStyle, c.Min.X, y, c.Max.X, y)
	}))
	p.Add(&legendBox{leg: leg, where: outsideRight})
	return p, nil
}

// groupOrder lists the points' groups: numerically when all are numbers.
func groupOrder(points []RDPoint) []string {
	var groups []string
	for _, pt := range points {
		if !slices.Contains(groups, pt.Group) {
			groups = append(groups, pt.Group)
		}
	}
	numeric := true
	for _, g := range groups {
		if _, err := strconv.ParseFloat(g, 64); err != nil {
			numeric = false
		}
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if numeric {
			a, _ := strconv.ParseFloat(groups[i], 64)
			b, _ := strconv.ParseFloat(groups[j], 64)
			return a < b
		}
		return groups[i] < groups[j]
	})
	return groups
}

var isoStyle = draw.LineStyle{Color: color.Gray{Y: 185}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}

// isoELBO draws lines of constant rate + distortion across the data area,
// at round values of R + D.
type isoELBO struct{ xmin, xmax, ymin, ymax float64 }

// Plot implements plot.Plotter.
func (l *isoELBO) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	lo, hi := p.X.Min+p.Y.Min, p.X.Max+p.Y.Max
	for _, tk := range (niceTicks{n: 6}).Ticks(lo, hi) {
		if tk.Label == "" {
			continue
		}
		s := tk.Value
		// R + D = s from where it enters the axes to where it leaves them.
		x0, x1 := math.Max(p.X.Min, s-p.Y.Max), math.Min(p.X.Max, s-p.Y.Min)
		if x0 >= x1 {
			continue
		}
		pts := []vg.Point{{X: trX(x0), Y: trY(s - x0)}, {X: trX(x1), Y: trY(s - x1)}}
		c.StrokeLines(isoStyle, c.ClipLinesXY(pts)...)
		label := text.Style{Color: color.Gray{Y: 140}, Font: sans(7.5), XAlign: draw.XRight, YAlign: draw.YBottom, Handler: plot.DefaultTextHandler}
		c.FillText(label, vg.Point{X: trX(x1) - vg.Points(2), Y: trY(s-x1) + vg.Points(2)}, tk.Label)
	}
}

// RungSeries is one successive-halving trial: its metric at each budget it
// reached, and whether it was pruned.
type RungSeries struct {
	Name            string
	Budgets, Values []float64
	Pruned          bool
}

// Rungs draws each trial's metric against its training budget, one line
// per trial through the rungs it reached: trials that reached the top in
// colour (named in the legend), pruned ones in light grey. The budget axis
// is logarithmic when the budgets span a factor of 8 or more.
func Rungs(trials []RungSeries, opt CurveOptions) (*plot.Plot, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if len(trials) == 0 {
		return nil, fmt.Errorf("plots: Rungs has no trials: %w", errNoData)
	}
	p := newPlot(opt.Title, opt.XLabel, opt.YLabel)
	var budgets []float64
	for _, t := range trials {
		if len(t.Budgets) != len(t.Values) {
			return nil, fmt.Errorf("plots: trial %q has %d budgets but %d values", t.Name, len(t.Budgets), len(t.Values))
		}
		for _, b := range t.Budgets {
			if b > 0 && !slices.Contains(budgets, b) {
				budgets = append(budgets, b)
			}
		}
	}
	sort.Float64s(budgets)
	if len(budgets) > 1 && budgets[len(budgets)-1]/budgets[0] >= 8 {
		p.X.Scale = plot.LogScale{}
	}
	ticks := make(plot.ConstantTicks, len(budgets))
	for i, b := range budgets {
		ticks[i] = plot.Tick{Value: b, Label: strconv.FormatFloat(b, 'g', -1, 64)}
	}
	p.X.Tick.Marker = ticks
	if opt.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	grey := withAlpha(color.NRGBA{0x7f, 0x7f, 0x7f, 0xff}, 90)
	leg := newLegend()
	var pruned int
	var paths [][]xy
	// Pruned first, so the survivors are drawn over them.
	order := make([]int, len(trials))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return trials[order[i]].Pruned && !trials[order[j]].Pruned })
	colour := 0
	for _, i := range order {
		t := trials[i]
		var pts plotter.XYs
		var path []xy
		for k := range t.Budgets {
			if finite(t.Values[k]) && t.Budgets[k] > 0 && (!opt.LogY || t.Values[k] > 0) {
				pts = append(pts, plotter.XY{X: t.Budgets[k], Y: t.Values[k]})
				path = append(path, xy{t.Budgets[k], t.Values[k]})
			}
		}
		if len(pts) == 0 {
			continue
		}
		paths = append(paths, path)
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, fmt.Errorf("plots: trial %q: %w", t.Name, err)
		}
		c := grey
		if !t.Pruned {
			c = palette[colour%len(palette)]
			colour++
		}
		line.Color, line.Width = c, vg.Points(1.2)
		points.Color, points.Radius, points.Shape = c, vg.Points(2.2), draw.CircleGlyph{}
		if t.Pruned {
			line.Width, points.Radius = vg.Points(0.8), vg.Points(1.6)
			pruned++
		} else {
			leg.Add(t.Name, line, points)
		}
		p.Add(line, points)
	}
	if pruned > 0 {
		line := &plotter.Line{LineStyle: draw.LineStyle{Color: grey, Width: vg.Points(0.8)}}
		leg.Add(fmt.Sprintf("pruned (%d)", pruned), line)
	}
	fixRange(&p.X, p.X.Scale != nil && isLog(p.X.Scale))
	fixRange(&p.Y, opt.LogY)
	w, h := opt.size(defaultWidthIn, defaultHeightIn)
	placeLegend(p, leg, paths, w, h)
	return p, nil
}

func isLog(s plot.Normalizer) bool {
	_, ok := s.(plot.LogScale)
	return ok
}

// PCAxis is one axis of a parallel-coordinates plot: one value per line.
// Labels, when set, make it categorical (Values are then ignored): each
// distinct label gets a place on the axis, in first-seen order (numerically
// when they all parse as numbers). Log spaces a positive numeric axis
// logarithmically.
type PCAxis struct {
	Name   string
	Values []float64
	Labels []string
	Log    bool
}

// ParallelCoordinates draws one line per run across the axes, left to
// right, ending at the metric's axis; each axis is scaled to its own range
// and labelled at its ends (or at each category). Lines are coloured by the
// metric, darkest for the best (lowest when minimize), so the settings of
// good runs stand out; the best is drawn last, on top.
func ParallelCoordinates(axes []PCAxis, metric PCAxis, minimize bool, opt CurveOptions) (*plot.Plot, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	all := append(slices.Clone(axes), metric)
	n := len(metric.Values)
	if n == 0 {
		return nil, fmt.Errorf("plots: ParallelCoordinates has no lines: %w", errNoData)
	}
	for _, a := range all {
		if (a.Labels == nil && len(a.Values) != n) || (a.Labels != nil && len(a.Labels) != n) {
			return nil, fmt.Errorf("plots: axis %q has %d values for %d lines; give one per line", a.Name, max(len(a.Values), len(a.Labels)), n)
		}
	}
	pc := &parallel{n: n, minimize: minimize}
	for _, a := range all {
		pc.axes = append(pc.axes, newPCScale(a))
	}
	p := newPlot(opt.Title, "", "")
	p.Add(pc)
	names := make([]string, len(all))
	for i, a := range all {
		names[i] = a.Name
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.15, float64(len(all)-1)+0.15
	p.Y.Min, p.Y.Max = -0.06, 1.06
	p.HideY()
	p.X.Tick.Label.Font = sans(9.5)
	leg := newLegend()
	lo, hi := pc.metricRange()
	best, worst := lo, hi
	if !minimize {
		best, worst = hi, lo
	}
	leg.Add(fmt.Sprintf("best %s %.4g", metric.Name, best), &plotter.Line{LineStyle: draw.LineStyle{Color: metricRamp(0), Width: vg.Points(2)}})
	leg.Add(fmt.Sprintf("worst %.4g", worst), &plotter.Line{LineStyle: draw.LineStyle{Color: metricRamp(1), Width: vg.Points(2)}})
	p.Add(&legendBox{leg: leg, where: outsideRight})
	return p, nil
}

// pcScale maps one axis's values to [0, 1].
type pcScale struct {
	a      PCAxis
	cats   []string
	lo, hi float64
	log    bool
}

func newPCScale(a PCAxis) *pcScale {
	s := &pcScale{a: a}
	if a.Labels != nil {
		for _, l := range a.Labels {
			if !slices.Contains(s.cats, l) {
				s.cats = append(s.cats, l)
			}
		}
		pts := make([]RDPoint, len(s.cats))
		for i, c := range s.cats {
			pts[i].Group = c
		}
		s.cats = groupOrder(pts)
		return s
	}
	s.lo, s.hi = math.Inf(1), math.Inf(-1)
	for _, v := range a.Values {
		if finite(v) {
			s.lo, s.hi = math.Min(s.lo, v), math.Max(s.hi, v)
		}
	}
	s.log = a.Log && s.lo > 0
	return s
}

// at returns line i's position on the axis, NaN when it has no value.
func (s *pcScale) at(i int) float64 {
	if s.cats != nil {
		k := slices.Index(s.cats, s.a.Labels[i])
		if len(s.cats) == 1 {
			return 0.5
		}
		return float64(k) / float64(len(s.cats)-1)
	}
	v := s.a.Values[i]
	if !finite(v) || (s.log && v <= 0) {
		return math.NaN()
	}
	if !(s.hi > s.lo) {
		return 0.5
	}
	if s.log {
		return (math.Log(v) - math.Log(s.lo)) / (math.Log(s.hi) - math.Log(s.lo))
	}
	return (v - s.lo) / (s.hi - s.lo)
}

// ticks are the labels drawn beside the axis: categories, or its ends.
func (s *pcScale) ticks() []plot.Tick {
	if s.cats != nil {
		out := make([]plot.Tick, len(s.cats))
		for i, c := range s.cats {
			out[i] = plot.Tick{Value: s.at(slices.Index(s.a.Labels, c)), Label: c}
		}
		return out
	}
	if !(s.hi >= s.lo) {
		return nil
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }
	if !(s.hi > s.lo) {
		return []plot.Tick{{Value: 0.5, Label: f(s.lo)}}
	}
	return []plot.Tick{{Value: 0, Label: f(s.lo)}, {Value: 1, Label: f(s.hi)}}
}

type parallel struct {
	axes     []*pcScale
	n        int
	minimize bool
}

func (pc *parallel) metricRange() (lo, hi float64) {
	m := pc.axes[len(pc.axes)-1]
	return m.lo, m.hi
}

// metricRamp is the line colour for a run whose metric is at fraction f of the
// way from best (0) to worst (1): dark blue through teal to light yellow
// (viridis-like, readable on white and in greyscale).
func metricRamp(f float64) color.NRGBA {
	stops := []color.NRGBA{{0x30, 0x12, 0x5c, 230}, {0x21, 0x68, 0x8e, 200}, {0x27, 0xa0, 0x83, 170}, {0xb5, 0xd8, 0x3a, 140}, {0xe8, 0xe0, 0x6a, 110}}
	f = math.Max(0, math.Min(1, f)) * float64(len(stops)-1)
	k := int(math.Min(f, float64(len(stops)-2)))
	t := f - float64(k)
	a, b := stops[k], stops[k+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + t*(float64(y)-float64(x)))) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), mix(a.A, b.A)}
}

// Plot implements plot.Plotter.
func (pc *parallel) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	axisLine := draw.LineStyle{Color: color.Gray{Y: 60}, Width: vg.Points(1)}
	for k := range pc.axes {
		c.StrokeLine2(axisLine, trX(float64(k)), trY(0), trX(float64(k)), trY(1))
	}
	metric := pc.axes[len(pc.axes)-1]
	order := make([]int, pc.n)
	for i := range order {
		order[i] = i
	}
	// Worst first, best last (on top).
	badness := func(i int) float64 {
		f := metric.at(i)
		if !pc.minimize {
			f = 1 - f
		}
		if math.IsNaN(f) {
			return 2
		}
		return f
	}
	sort.SliceStable(order, func(a, b int) bool { return badness(order[a]) > badness(order[b]) })
	for _, i := range order {
		var pts []vg.Point
		for k, ax := range pc.axes {
			if y := ax.at(i); !math.IsNaN(y) {
				pts = append(pts, vg.Point{X: trX(float64(k)), Y: trY(y)})
			}
		}
		col := metricRamp(badness(i))
		if badness(i) > 1 {
			col = color.NRGBA{0xbb, 0xbb, 0xbb, 120}
		}
		c.StrokeLines(draw.LineStyle{Color: col, Width: vg.Points(1.3)}, pts)
	}
	label := text.Style{Color: color.Gray{Y: 30}, Font: sans(8), XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	for k, ax := range pc.axes {
		for _, tk := range ax.ticks() {
			pt := vg.Point{X: trX(float64(k)) + vg.Points(3), Y: trY(tk.Value)}
			// A white backing keeps the label readable over the lines.
			w := label.Width(tk.Label)
			h := label.Height(tk.Label)
			c.FillPolygon(color.NRGBA{255, 255, 255, 210}, []vg.Point{
				{X: pt.X - 1, Y: pt.Y - h/2}, {X: pt.X + w + 1, Y: pt.Y - h/2}, {X: pt.X + w + 1, Y: pt.Y + h/2}, {X: pt.X - 1, Y: pt.Y + h/2}})
			c.FillText(label, pt, tk.Label)
		}
	}
}
