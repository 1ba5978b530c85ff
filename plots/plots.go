// Package plots turns plain Go values — loss curves, image batches, latent
// codes, grouped results — into PNG, SVG and PDF figures.
//
// It depends on gonum/plot only: no database, no model code. The tracker, the
// CLI and notebooks hand it slices they already hold, so every figure vaexp
// draws looks the same whichever of them asked for it.
//
// Policy shared by every function: non-finite values (NaN, ±Inf) are skipped,
// never a panic, so a run that diverged still gets a figure with a gap in it;
// structural mistakes (no data, mismatched lengths, unknown file extension,
// zero columns) are returned as errors that name the bad value.
package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// DPI is the resolution of PNG output: a 6×4 inch figure is 900×600 pixels.
const DPI = 150

const (
	defaultWidthIn  = 6.0 // default size of a single figure, inches
	defaultHeightIn = 4.0
	panelWidthIn    = 4.0 // default size of one panel in SavePanels, inches
	panelHeightIn   = 3.0
)

// palette is Tableau 10 (matplotlib's tab10): ten hues that stay
// distinguishable for the common forms of colour blindness and in greyscale
// print better than a rainbow.
var palette = []color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
	{0xe3, 0x77, 0xc2, 0xff}, // pink
	{0x7f, 0x7f, 0x7f, 0xff}, // grey
	{0xbc, 0xbd, 0x22, 0xff}, // olive
	{0x17, 0xbe, 0xcf, 0xff}, // cyan
}

// dashes vary the line pattern once the ten colours are used up, so series
// 1 and 11 still differ.
var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(2), vg.Points(2)},
	{vg.Points(6), vg.Points(2), vg.Points(2), vg.Points(2)},
}

// withAlpha returns c with its opacity scaled to a (0..255).
func withAlpha(c color.NRGBA, a uint8) color.NRGBA {
	c.A = a
	return c
}

// Series is one named curve. Points whose X or Y is NaN or ±Inf (and, on a
// log y-axis, whose Y is not positive) are skipped, leaving a gap in the
// curve; an isolated point between two gaps is drawn as a dot.
type Series struct {
	Name string
	X, Y []float64
}

// CurveOptions configures Curves, SavePanels, LatentScatter and ErrorBars.
// The zero value gives an untitled 6×4 inch figure with a linear y-axis.
type CurveOptions struct {
	// Title, XLabel and YLabel label the axes; empty strings are omitted.
	Title, XLabel, YLabel string
	// LogY draws the y-axis on a log scale; non-positive values are skipped.
	LogY bool
	// Width and Height are the figure size in inches; 0 selects the
	// default (6×4 for a single plot, 4×3 per panel in SavePanels).
	Width, Height float64
	// Smooth is the window, in points, of a centred moving average. When it
	// is 2 or more every series is drawn twice: raw as a faint line and
	// smoothed as a solid one. 0 (or 1) turns smoothing off.
	Smooth int
	// SkipTransient leaves the first fraction (0 to 0.5) of every series of 20
	// points or more out of the y-range, so that a loss curve's first steps
	// (hundreds of nats above the rest) do not flatten everything after
	// them; the cut-off points are drawn clipped at the top. 0 fits all points.
	SkipTransient float64
	// Notes are short texts SavePanels writes under the figure title, for
	// values that are not curves: a single measurement ("time/median_step_ms
	// = 5.75") drawn as a panel would be a flat line that says nothing.
	// Other functions ignore it.
	Notes []string
}

// validate rejects options that cannot mean anything.
func (o CurveOptions) validate() error {
	if o.Width < 0 || math.IsNaN(o.Width) || math.IsInf(o.Width, 0) {
		return fmt.Errorf("plots: Width %v inches is invalid: use a positive size, or 0 for the default", o.Width)
	}
	if o.Height < 0 || math.IsNaN(o.Height) || math.IsInf(o.Height, 0) {
		return fmt.Errorf("plots: Height %v inches is invalid: use a positive size, or 0 for the default", o.Height)
	}
	if o.SkipTransient < 0 || o.SkipTransient > 0.5 || math.IsNaN(o.SkipTransient) {
		return fmt.Errorf("plots: SkipTransient %v is invalid: use a fraction from 0 to 0.5", o.SkipTransient)
	}
	if o.Smooth < 0 {
		return fmt.Errorf("plots: Smooth window %d is negative: use 0 for no smoothing or a window of 2 or more points", o.Smooth)
	}
	return nil
}

// size returns the figure size in inches, falling back to the given defaults.
func (o CurveOptions) size(defW, defH float64) (w, h float64) {
	w, h = o.Width, o.Height
	if w == 0 {
		w = defW
	}
	if h == 0 {
		h = defH
	}
	return w, h
}

// sans returns the Liberation Sans face at the given size; sans-serif reads
// better than gonum's default serif at small sizes on screen.
func sans(size float64) font.Font {
	return font.From(font.Font{Typeface: "Liberation", Variant: "Sans"}, vg.Points(size))
}

// newPlot returns a plot with vaexp's house style: sans-serif text, a light
// grid behind the data and the given labels.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(12)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(9.5)
		a.Padding = vg.Points(3)
		a.Tick.Marker = niceTicks{n: 5}
	}
	p.Legend.TextStyle.Font = sans(10)

	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	grid.Vertical.Width = vg.Points(0.5)
	grid.Horizontal.Width = vg.Points(0.5)
	p.Add(grid)
	return p
}

// optPlot is newPlot with opt's labels and, when opt.LogY, a log y-axis.
func optPlot(opt CurveOptions) *plot.Plot {
	p := newPlot(opt.Title, opt.XLabel, opt.YLabel)
	if opt.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	return p
}

// newLegend returns a legend in the house style. It is drawn by a legendBox
// plotter, not by the plot itself, so that it can sit in an empty corner or
// outside the axes.
func newLegend() plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = sans(10)
	l.ThumbnailWidth = vg.Points(18)
	l.Top, l.Left = true, true
	l.Padding = vg.Points(1.5)
	return l
}

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// fixRange makes an axis range drawable before gonum sees it: an axis with
// no data gets a unit range, a degenerate one is widened around its value,
// and a log axis keeps strictly positive bounds (gonum panics otherwise).
func fixRange(a *plot.Axis, log bool) {
	if a.Min > a.Max || math.IsInf(a.Min, 0) || math.IsInf(a.Max, 0) {
		if log {
			a.Min, a.Max = 1, 10
		} else {
			a.Min, a.Max = 0, 1
		}
		return
	}
	if a.Min == a.Max {
		v := a.Min
		switch {
		case log:
			a.Min, a.Max = v/2, v*2
		case v == 0:
			a.Min, a.Max = -1, 1
		default:
			a.Min, a.Max = v-math.Abs(v)*0.1, v+math.Abs(v)*0.1
		}
	}
}

// errNoData is wrapped by the errors for inputs with no elements at all.
var errNoData = errors.New("no data")

// render calls draw and turns a gonum panic into an error, so no panic
// crosses this package's boundary.
func render(what string, draw func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plots: drawing %s failed: %v", what, r)
		}
	}()
	draw()
	return nil
}

// compile-time checks that the custom plotters fit gonum's interfaces.
var (
	_ plot.Plotter     = (*curve)(nil)
	_ plot.DataRanger  = (*curve)(nil)
	_ plot.Thumbnailer = (*curve)(nil)
	_ plot.Plotter     = (*legendBox)(nil)
	_ plot.GlyphBoxer  = (*legendBox)(nil)
	_ plot.Thumbnailer = glyphThumb{}
)
