package plots

import (
	"fmt"

	"gonum.org/v1/plot"
)

// EncodeForecasts draws forecasts as ForecastPlot draws each, in a grid of
// cols columns, in the format of the file extension format (".png", ".svg"
// or ".pdf", or a file name ending in one). titles (nil, or one per
// forecast) title the panels; opt applies to every panel, its Width and
// Height being one panel's size (0: 4×3 inches), its Title the figure's.
func EncodeForecasts(format string, fs []Forecast, titles []string, cols int, opt CurveOptions) ([]byte, error) {
	ext, err := formatOf(format, figureFormats)
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("plots: forecasts %q: no forecasts to draw: %w", format, errNoData)
	}
	if titles != nil && len(titles) != len(fs) {
		return nil, fmt.Errorf("plots: forecasts %q: %d titles for %d forecasts", format, len(titles), len(fs))
	}
	if cols < 1 {
		return nil, fmt.Errorf("plots: forecasts %q: cols is %d; it must be at least 1", format, cols)
	}
	cols = min(cols, len(fs))
	rows := (len(fs) + cols - 1) / cols
	pw, ph := opt.size(panelWidthIn, panelHeightIn)
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, f := range fs {
		sub := opt
		sub.Title, sub.Width, sub.Height = "", pw, ph
		if titles != nil {
			sub.Title = titles[i]
		}
		p, err := ForecastPlot(f, sub)
		if err != nil {
			return nil, fmt.Errorf("plots: forecast %d: %w", i, err)
		}
		grid[i/cols][i%cols] = p
	}
	return encodeGrid(ext, format, grid, pw, ph, opt.Title, opt.Notes)
}
