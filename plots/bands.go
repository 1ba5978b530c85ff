package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Band is one curve with a shaded range around it: the mean of a metric over
// seeds with ±1 standard deviation, say. X, Mean, Lo and Hi pair up by index.
type Band struct {
	Name            string
	X, Mean, Lo, Hi []float64
}

// Bands draws each band's Mean as a line over its Lo–Hi range, shaded in the
// line's colour, on one set of axes with a legend placed where it covers no
// data: how a spread across seeds is read at a glance.
//
// A point whose X or Mean is not finite (or, with LogY, not positive) leaves
// a gap in the line; one whose Lo or Hi is not leaves a gap in the shading
// only. SkipTransient, LogY, the labels and the size apply as in Curves;
// Smooth is refused (average before drawing: a band of smoothed means would
// not be the spread of anything). No band, an empty band, mismatched lengths
// or Lo above Hi are errors naming the band.
func Bands(bands []Band, opt CurveOptions) (*plot.Plot, error) {
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if opt.Smooth != 0 {
		return nil, fmt.Errorf("plots: Bands does not smooth (got Smooth %d): average the values before drawing, and leave Smooth zero", opt.Smooth)
	}
	if len(bands) == 0 {
		return nil, fmt.Errorf("plots: Bands needs at least one band, got none: %w", errNoData)
	}
	for i, b := range bands {
		name := b.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		n := len(b.X)
		if len(b.Mean) != n || len(b.Lo) != n || len(b.Hi) != n {
			return nil, fmt.Errorf("plots: band %q has %d X, %d Mean, %d Lo and %d Hi values; they must pair up", name, n, len(b.Mean), len(b.Lo), len(b.Hi))
		}
		if n == 0 {
			return nil, fmt.Errorf("plots: band %q is empty (no points): %w", name, errNoData)
		}
		for k := range n {
			if b.Lo[k] > b.Hi[k] {
				return nil, fmt.Errorf("plots: band %q at X = %g has Lo %g above Hi %g", name, b.X[k], b.Lo[k], b.Hi[k])
			}
		}
	}
	p := optPlot(opt)
	leg := newLegend()
	var paths [][]xy
	means := make([]Series, len(bands))
	for i, b := range bands {
		look := lookFor(i)
		// The shading first, so every line is drawn over every band.
		sx, lo := cleanPoints(b.X, b.Lo, opt.LogY)
		_, hi := cleanPoints(b.X, b.Hi, opt.LogY)
		for k := range sx {
			if math.IsNaN(lo[k]) || math.IsNaN(hi[k]) {
				sx[k], lo[k], hi[k] = math.NaN(), math.NaN(), math.NaN()
			}
		}
		p.Add(&band{xs: sx, lo: lo, hi: hi, color: withAlpha(look.color, 55)})
		for k := range sx {
			if !math.IsNaN(sx[k]) {
				paths = append(paths, []xy{{sx[k], lo[k]}, {sx[k], hi[k]}})
			}
		}
		means[i] = Series{Name: b.Name, X: b.X, Y: b.Mean}
	}
	for i, s := range means {
		look := lookFor(i)
		xs, ys := cleanPoints(s.X, s.Y, opt.LogY)
		cv := &curve{xs: xs, ys: ys, line: draw.LineStyle{Color: look.color, Width: vg.Points(1.8), Dashes: look.dashes}, dot: vg.Points(2.5)}
		p.Add(cv)
		paths = append(paths, cv.paths()...)
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("series %d", i+1)
		}
		leg.Add(name, cv)
	}
	fixRange(&p.X, false)
	if opt.SkipTransient > 0 {
		skipTransient(&p.Y, means, opt)
	}
	fixRange(&p.Y, opt.LogY)
	w, h := opt.size(defaultWidthIn, defaultHeightIn)
	placeLegend(p, leg, paths, w, h)
	return p, nil
}
