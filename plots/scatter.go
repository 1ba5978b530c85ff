package plots

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// shapes distinguish classes beyond the ten palette colours.
var shapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}}

// LatentScatter draws 2-D latent codes (xs[i], ys[i]) as points coloured by
// labels[i], with a legend of the classes ("0" … "9" for digits) outside the
// axes. Ten classes get the ten palette colours; further classes reuse them
// with another marker shape. labels may be nil for unlabelled codes. Points
// are drawn in the order given, so no class hides under another wholesale.
// Non-finite points are skipped. LogY and Smooth are rejected: neither means
// anything for latent codes.
func LatentScatter(xs, ys []float64, labels []int, opt CurveOptions) (*plot.Plot, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if opt.LogY || opt.Smooth != 0 {
		return nil, errors.New("plots: LatentScatter does not support LogY or Smooth; leave them zero")
	}
	if len(xs) != len(ys) {
		return nil, fmt.Errorf("plots: LatentScatter has %d xs but %d ys; they must pair up", len(xs), len(ys))
	}
	if labels != nil && len(labels) != len(xs) {
		return nil, fmt.Errorf("plots: LatentScatter has %d points but %d labels; pass one label per point, or nil", len(xs), len(labels))
	}
	if len(xs) == 0 {
		return nil, fmt.Errorf("plots: LatentScatter has no points: %w", errNoData)
	}

	// Classes in ascending order, each with a colour and a shape.
	var classes []int
	if labels != nil {
		classes = slices.Clone(labels)
		slices.Sort(classes)
		classes = slices.Compact(classes)
	}
	index := make(map[int]int, len(classes))
	for i, c := range classes {
		index[c] = i
	}

	radius, alpha := vg.Points(2.5), uint8(220)
	switch n := len(xs); {
	case n > 5000:
		radius, alpha = vg.Points(1.3), 150
	case n > 500:
		radius, alpha = vg.Points(1.8), 190
	}
	styles := make([]draw.GlyphStyle, max(1, len(classes)))
	for i := range styles {
		styles[i] = draw.GlyphStyle{
			Color:  withAlpha(palette[i%len(palette)], alpha),
			Radius: radius,
			Shape:  shapes[(i/len(palette))%len(shapes)],
		}
	}

	sc := &scatter{xs: xs, ys: ys, class: make([]int, len(xs)), styles: styles}
	if labels != nil {
		for i, l := range labels {
			sc.class[i] = index[l]
		}
	}
	p := newPlot(opt.Title, opt.XLabel, opt.YLabel)
	p.Add(sc)
	fixRange(&p.X, false)
	fixRange(&p.Y, false)
	if len(classes) > 0 {
		leg := newLegend()
		leg.ThumbnailWidth = vg.Points(10)
		for i, c := range classes {
			thumb := styles[i]
			thumb.Color = withAlpha(palette[i%len(palette)], 255)
			thumb.Radius = vg.Points(3)
			leg.Add(strconv.Itoa(c), glyphThumb{thumb})
		}
		p.Add(&legendBox{leg: leg, where: outsideRight})
	}
	return p, nil
}

// scatter draws points with a per-point glyph style.
type scatter struct {
	xs, ys []float64
	class  []int // index into styles
	styles []draw.GlyphStyle
}

// Plot implements plot.Plotter.
func (s *scatter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i := range s.xs {
		if !finite(s.xs[i]) || !finite(s.ys[i]) {
			continue
		}
		c.DrawGlyph(s.styles[s.class[i]], vg.Point{X: trX(s.xs[i]), Y: trY(s.ys[i])})
	}
}

// DataRange implements plot.DataRanger over the finite points.
func (s *scatter) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for i := range s.xs {
		x, y := s.xs[i], s.ys[i]
		if !finite(x) || !finite(y) {
			continue
		}
		xmin, xmax = math.Min(xmin, x), math.Max(xmax, x)
		ymin, ymax = math.Min(ymin, y), math.Max(ymax, y)
	}
	return xmin, xmax, ymin, ymax
}

// GlyphBoxes implements plot.GlyphBoxer for the extreme points only, so
// gonum pads the axes to keep edge glyphs whole without visiting every
// point twice.
func (s *scatter) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	xmin, xmax, ymin, ymax := s.DataRange()
	if xmin > xmax {
		return nil
	}
	r := s.styles[0].Rectangle()
	var boxes []plot.GlyphBox
	for _, q := range []xy{{xmin, ymin}, {xmax, ymax}} {
		boxes = append(boxes, plot.GlyphBox{X: p.X.Norm(q.x), Y: p.Y.Norm(q.y), Rectangle: r})
	}
	return boxes
}
