package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// placement is where a legendBox sits relative to the data area.
type placement int

const (
	topRight placement = iota
	topLeft
	bottomRight
	bottomLeft
	outsideRight
)

var (
	legendMargin = vg.Points(6)  // from the edge of the data area to an inside legend
	legendPad    = vg.Points(4)  // inside the legend's frame
	legendGap    = vg.Points(10) // between the data area and an outside legend
)

// legendBox draws a legend as a plotter. gonum's own legend can only sit in
// a fixed corner over the data; as a plotter it gets the data canvas, so it
// can sit in whichever corner is empty or, through its glyph box, claim a
// strip to the right of the axes.
type legendBox struct {
	leg   plot.Legend
	where placement
}

// size returns the legend's framed width and height.
func (lb *legendBox) size() (w, h vg.Length) {
	r := lb.leg.Rectangle(draw.Canvas{})
	descent := lb.leg.TextStyle.FontExtents().Descent
	return r.Size().X + 2*legendPad, r.Size().Y + descent + 2*legendPad
}

// Plot implements plot.Plotter.
func (lb *legendBox) Plot(c draw.Canvas, _ *plot.Plot) {
	w, h := lb.size()
	var r vg.Rectangle
	switch lb.where {
	case topRight:
		r.Min.X, r.Max.Y = c.Max.X-legendMargin-w, c.Max.Y-legendMargin
	case topLeft:
		r.Min.X, r.Max.Y = c.Min.X+legendMargin, c.Max.Y-legendMargin
	case bottomRight:
		r.Min.X, r.Max.Y = c.Max.X-legendMargin-w, c.Min.Y+legendMargin+h
	case bottomLeft:
		r.Min.X, r.Max.Y = c.Min.X+legendMargin, c.Min.Y+legendMargin+h
	case outsideRight:
		r.Min.X, r.Max.Y = c.Max.X+legendGap, c.Max.Y
	}
	r.Max.X, r.Min.Y = r.Min.X+w, r.Max.Y-h
	if lb.where != outsideRight {
		corners := []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
		c.FillPolygon(color.NRGBA{R: 255, G: 255, B: 255, A: 230}, corners)
		c.StrokeLines(draw.LineStyle{Color: color.Gray{Y: 200}, Width: vg.Points(0.6)}, append(corners, r.Min))
	}
	inner := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: r.Min.X + legendPad, Y: r.Min.Y + legendPad},
		Max: vg.Point{X: r.Max.X - legendPad, Y: r.Max.Y - legendPad},
	}}
	lb.leg.Draw(inner)
}

// GlyphBoxes implements plot.GlyphBoxer: an outside legend reserves its
// width to the right of the data area, which makes gonum shrink the axes to
// fit it. It has no height, so it never changes the vertical layout.
func (lb *legendBox) GlyphBoxes(*plot.Plot) []plot.GlyphBox {
	if lb.where != outsideRight {
		return nil
	}
	w, _ := lb.size()
	return []plot.GlyphBox{{X: 1, Y: 1, Rectangle: vg.Rectangle{
		Min: vg.Point{X: legendGap},
		Max: vg.Point{X: legendGap + w},
	}}}
}

// placeLegend adds leg to p where it hides no data: the emptiest inside
// corner, else a corner freed by raising the top of the y-axis, else
// outside to the right. paths are the drawn polylines in data coordinates;
// wIn and hIn are the size in inches the plot will be drawn at. The axis
// ranges of p must already be final (fixRange). It returns where the
// legend went, and false if the legend had no entries to place.
func placeLegend(p *plot.Plot, leg plot.Legend, paths [][]xy, wIn, hIn float64) (placement, bool) {
	lb := &legendBox{leg: leg}
	if leg.Rectangle(draw.Canvas{}).Size().Y <= 0 {
		return 0, false
	}
	full := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: vg.Length(wIn) * vg.Inch, Y: vg.Length(hIn) * vg.Inch}}}
	dc := p.DataCanvas(full)
	dw, dh := dc.Size().X, dc.Size().Y
	lw, lh := lb.size()
	fw, fh := float64((lw+2*legendMargin)/dw), float64((lh+2*legendMargin)/dh)
	if dw <= 0 || dh <= 0 || fw > 0.6 || fh > 0.7 {
		lb.where = outsideRight
		p.Add(lb)
		return lb.where, true
	}

	var counts [4]int
	eachSample(p, paths, func(s xy) {
		right, left := s.x >= 1-fw, s.x <= fw
		top, bottom := s.y >= 1-fh, s.y <= fh
		if top && right {
			counts[topRight]++
		}
		if top && left {
			counts[topLeft]++
		}
		if bottom && right {
			counts[bottomRight]++
		}
		if bottom && left {
			counts[bottomLeft]++
		}
	})
	best := topRight
	for c := topRight; c <= bottomLeft; c++ {
		if counts[c] < counts[best] {
			best = c
		}
	}
	switch {
	case counts[best] == 0:
		lb.where = best
	case fh <= 0.4:
		// Raise the top of the y-axis so the data fill only the lower
		// 1-fh of the height, freeing a band for the legend.
		raiseTop(&p.Y, fh)
		lb.where = topRight
		if counts[topLeft] < counts[topRight] {
			lb.where = topLeft
		}
	default:
		lb.where = outsideRight
	}
	p.Add(lb)
	return lb.where, true
}

// raiseTop raises a.Max so the old range fills the bottom 1-frac of the
// axis, measured in the axis' own (linear or log) scale.
func raiseTop(a *plot.Axis, frac float64) {
	frac += 0.02 // a hair of air between data and the legend frame
	if _, isLog := a.Scale.(plot.LogScale); isLog {
		lo, hi := math.Log(a.Min), math.Log(a.Max)
		a.Max = math.Exp(lo + (hi-lo)/(1-frac))
		return
	}
	a.Max = a.Min + (a.Max-a.Min)/(1-frac)
}

// eachSample calls visit with points along every path in normalized axis
// coordinates (0..1 across the data area), dense enough that a straight
// segment crossing a corner leaves a sample in it. Segments are
// interpolated after normalizing because that is how they are drawn. Long
// series are dense already, so they get fewer samples per segment.
func eachSample(p *plot.Plot, paths [][]xy, visit func(xy)) {
	total := 0
	for _, path := range paths {
		total += len(path)
	}
	perSegment := 8
	if total > 20000 {
		perSegment = 1
	}
	norm := func(q xy) xy { return xy{p.X.Norm(q.x), p.Y.Norm(q.y)} }
	for _, path := range paths {
		if len(path) == 0 {
			continue
		}
		prev := norm(path[0])
		visit(prev)
		for _, q := range path[1:] {
			cur := norm(q)
			for k := 1; k <= perSegment; k++ {
				t := float64(k) / float64(perSegment)
				visit(xy{prev.x + t*(cur.x-prev.x), prev.y + t*(cur.y-prev.y)})
			}
			prev = cur
		}
	}
}

// glyphThumb is a legend thumbnail showing one glyph, for plots whose
// plotters draw many classes at once.
type glyphThumb struct{ sty draw.GlyphStyle }

// Thumbnail implements plot.Thumbnailer.
func (g glyphThumb) Thumbnail(c *draw.Canvas) { c.DrawGlyph(g.sty, c.Center()) }
