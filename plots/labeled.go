package plots

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
)

// LabeledGridOptions configures LabeledGrid.
type LabeledGridOptions struct {
	// Title, XLabel and YLabel label the figure and its axes.
	Title, XLabel, YLabel string
	// RowLabels name the rows, top to bottom (e.g. "z3", "digit 7"), and
	// ColLabels the columns, left to right (e.g. "−2σ" … "+2σ"); either may
	// be nil, and a shorter list leaves the remaining rows or columns unnamed.
	RowLabels, ColLabels []string
}

// LabeledGrid draws images as ImageGrid tiles them, cols per row, inside a
// figure whose axes name each row and column: a latent traversal (one row
// per latent dimension, one column per value), interpolations or a
// conditional grid (one row per class). The figure is meant to be encoded at
// LabeledGridSize.
func LabeledGrid(images [][]float32, h, w, cols int, opt LabeledGridOptions) (*plot.Plot, error) {
	img, err := ImageGrid(images, h, w, cols, GridOptions{Pad: 1, Border: 90})
	if err != nil {
		return nil, err
	}
	c := min(cols, len(images))
	rows := (len(images) + c - 1) / c
	if len(opt.RowLabels) > rows || len(opt.ColLabels) > c {
		return nil, fmt.Errorf("plots: LabeledGrid has %d row and %d column labels for a %d×%d grid", len(opt.RowLabels), len(opt.ColLabels), rows, c)
	}
	p := newPlot(opt.Title, opt.XLabel, opt.YLabel)
	p.Add(plotter.NewImage(img, 0, 0, float64(c), float64(rows)))
	p.X.Min, p.X.Max = 0, float64(c)
	p.Y.Min, p.Y.Max = 0, float64(rows)
	var xt, yt []plot.Tick
	for j, l := range opt.ColLabels {
		xt = append(xt, plot.Tick{Value: float64(j) + 0.5, Label: l})
	}
	for i, l := range opt.RowLabels {
		yt = append(yt, plot.Tick{Value: float64(rows-i) - 0.5, Label: l})
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	return p, nil
}

// LabeledGridSize is the figure size, in inches, at which a LabeledGrid of
// rows×cols images shows each image about half an inch wide, with room for
// the title and labels.
func LabeledGridSize(rows, cols int) (widthIn, heightIn float64) {
	const cell, marginW, marginH = 0.5, 1.6, 1.1
	return marginW + cell*float64(cols), marginH + cell*float64(rows)
}
