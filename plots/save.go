package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// figureFormats are the extensions Save and SavePanels accept.
var figureFormats = []string{".png", ".svg", ".pdf"}

// formatOf returns the lower-case extension of path if it is one of
// supported, or an error naming it and the supported ones.
func formatOf(path string, supported []string) (string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	for _, s := range supported {
		if ext == s {
			return ext, nil
		}
	}
	if ext == "" {
		return "", fmt.Errorf("plots: %q has no file extension; use one of %s", path, strings.Join(supported, ", "))
	}
	return "", fmt.Errorf("plots: unsupported file extension %q in %q; use one of %s", ext, path, strings.Join(supported, ", "))
}

// newCanvas returns a canvas of the given size for a figure format.
func newCanvas(ext string, w, h vg.Length) vg.CanvasWriterTo {
	switch ext {
	case ".svg":
		return vgsvg.New(w, h)
	case ".pdf":
		return vgpdf.New(w, h)
	default:
		return vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(DPI))}
	}
}

// checkSize validates a figure size in inches, filling in the default for 0.
func checkSize(wIn, hIn, defW, defH float64) (w, h float64, err error) {
	o := CurveOptions{Width: wIn, Height: hIn}
	if err := o.validate(); err != nil {
		return 0, 0, err
	}
	w, h = o.size(defW, defH)
	return w, h, nil
}

// encodeCanvas returns what c holds, encoded in its format.
func encodeCanvas(c vg.CanvasWriterTo, what string) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plots: encode %q: %w", what, err)
	}
	return buf.Bytes(), nil
}

// writeFigure writes an encoded figure (or the error that made it) to path;
// figures are encoded in memory first, so a failed render leaves no
// half-written file behind.
func writeFigure(path string, data []byte, err error) error {
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("plots: write figure: %w", err)
	}
	return nil
}

// Save writes p to path, choosing the format from the extension: .png
// (at DPI dots per inch), .svg or .pdf. widthIn and heightIn are the size in
// inches; 0 selects the default 6×4.
func Save(p *plot.Plot, path string, widthIn, heightIn float64) error {
	data, err := EncodeFigure(p, path, widthIn, heightIn)
	return writeFigure(path, data, err)
}

// EncodeFigure returns p drawn as Save draws it, in the format of the file
// extension format (".png", ".svg" or ".pdf", or a file name ending in one),
// for callers that store figures rather than write files (run artifacts).
func EncodeFigure(p *plot.Plot, format string, widthIn, heightIn float64) ([]byte, error) {
	if p == nil {
		return nil, fmt.Errorf("plots: figure %q: the plot is nil", format)
	}
	ext, err := formatOf(format, figureFormats)
	if err != nil {
		return nil, err
	}
	w, h, err := checkSize(widthIn, heightIn, defaultWidthIn, defaultHeightIn)
	if err != nil {
		return nil, err
	}
	c := newCanvas(ext, vg.Length(w)*vg.Inch, vg.Length(h)*vg.Inch)
	if err := render(format, func() { p.Draw(draw.New(c)) }); err != nil {
		return nil, err
	}
	return encodeCanvas(c, format)
}

// Panel is one subplot of SavePanels: its own title, y label and y scale,
// holding one or more series (say, train and test of one metric).
type Panel struct {
	Title, YLabel string
	Series        []Series
}

// titleBand is the height reserved above the panels for the figure title.
const titleBand = 0.4 // inches

// noteLine is the height of one line of notes, and noteSize its font size.
const (
	noteLine = 0.24 // inches: 36 pixels at DPI
	noteSize = 10.0 // points
)

// SavePanels draws panels in a grid of cols columns, each with its own y
// scale, and writes them as one image to path (.png, .svg or .pdf, by
// extension). This is the figure `vaexp plot RUN` writes: one panel per
// metric, train and test overlaid.
//
// opt applies to every panel: XLabel labels every x-axis, YLabel is used
// where a panel has none, LogY and Smooth apply throughout, and Title
// becomes a figure title above the grid. Width and Height are the size of
// one panel in inches (0 selects 4×3), so the image is cols·Width wide and
// rows·Height tall, plus 0.4 inch when there is a title. A series name
// keeps its colour across panels. cols larger than len(panels) is reduced
// to len(panels). opt.Notes are written under the title, as many to a line
// as fit, 0.24 inch a line; with notes, panels may be empty.
func SavePanels(path string, panels []Panel, cols int, opt CurveOptions) error {
	data, err := EncodePanels(path, panels, cols, opt)
	return writeFigure(path, data, err)
}

// EncodePanels returns the panels drawn as SavePanels draws them, in the
// format of the file extension format (".png", ".svg" or ".pdf", or a file
// name ending in one).
func EncodePanels(format string, panels []Panel, cols int, opt CurveOptions) ([]byte, error) {
	ext, err := formatOf(format, figureFormats)
	if err != nil {
		return nil, err
	}
	if err := opt.validate(); err != nil {
		return nil, err
	}
	if len(panels) == 0 && len(opt.Notes) == 0 {
		return nil, fmt.Errorf("plots: panels %q: no panels to draw: %w", format, errNoData)
	}
	if cols < 1 {
		return nil, fmt.Errorf("plots: panels %q: cols is %d; it must be at least 1", format, cols)
	}
	cols = max(1, min(cols, len(panels)))
	rows := (len(panels) + cols - 1) / cols
	pw, ph := opt.size(panelWidthIn, panelHeightIn)

	// One look per series name, in order of first appearance, so "train"
	// is the same colour in every panel.
	looks := map[string]lineLook{}
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	for i, pan := range panels {
		if len(pan.Series) == 0 {
			return nil, fmt.Errorf("plots: panel %d (%q) has no series: %w", i, pan.Title, errNoData)
		}
		ls := make([]lineLook, len(pan.Series))
		for j, s := range pan.Series {
			key := s.Name
			if key == "" {
				key = "\x00" + strconv.Itoa(j) // unnamed series: by position
			}
			l, ok := looks[key]
			if !ok {
				l = lookFor(len(looks))
				looks[key] = l
			}
			ls[j] = l
		}
		sub := opt
		sub.Title = pan.Title
		if pan.YLabel != "" {
			sub.YLabel = pan.YLabel
		}
		p, err := curvesPlot(pan.Series, ls, sub, pw, ph)
		if err != nil {
			return nil, fmt.Errorf("plots: panel %d (%q): %w", i, pan.Title, err)
		}
		grid[i/cols][i%cols] = p
	}

	return encodeGrid(ext, format, grid, pw, ph, opt.Title, opt.Notes)
}

// encodeGrid draws a grid of plots (nil: an empty cell), each pw × ph
// inches, under an optional figure title and notes, and encodes it in the
// format ext.
func encodeGrid(ext, format string, grid [][]*plot.Plot, pw, ph float64, title string, notes []string) ([]byte, error) {
	rows, cols := len(grid), 1 // no rows: a figure of notes alone, one panel wide
	if rows > 0 {
		cols = len(grid[0])
	}
	band := 0.0
	if title != "" {
		band = titleBand
	}
	notes = noteLines(notes, float64(cols)*pw)
	noteBand := float64(len(notes)) * noteLine
	if len(notes) > 0 {
		noteBand += noteLine / 2 // a margin above the panels
	}
	W := vg.Length(float64(cols)*pw) * vg.Inch
	H := vg.Length(float64(rows)*ph+band+noteBand) * vg.Inch
	c := newCanvas(ext, W, H)
	err := render(format, func() {
		dc := draw.New(c)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		if title != "" {
			sty := text.Style{Color: color.Black, Font: sans(14), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
			band := vg.Length(band) * vg.Inch
			dc.FillText(sty, vg.Point{X: dc.Center().X, Y: dc.Max.Y - band/2}, title)
			dc.Max.Y -= band
		}
		sty := text.Style{Color: color.Black, Font: sans(noteSize), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
		for i, line := range notes {
			y := dc.Max.Y - vg.Length((float64(i)+0.5)*noteLine)*vg.Inch
			dc.FillText(sty, vg.Point{X: dc.Center().X, Y: y}, line)
		}
		dc.Max.Y -= vg.Length(noteBand) * vg.Inch
		if rows == 0 {
			return
		}
		tiles := draw.Tiles{
			Rows: rows, Cols: cols,
			PadX: vg.Points(14), PadY: vg.Points(10),
			PadTop: vg.Points(4), PadBottom: vg.Points(4),
			PadLeft: vg.Points(4), PadRight: vg.Points(8),
		}
		canvases := plot.Align(grid, tiles, dc)
		for r := range grid {
			for col, p := range grid[r] {
				if p != nil {
					p.Draw(canvases[r][col])
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return encodeCanvas(c, format)
}

// noteLines packs notes into lines that fit a figure widthIn inches wide,
// separated by wide gaps; a note longer than a line gets a line of its own.
func noteLines(notes []string, widthIn float64) []string {
	// Liberation Sans averages about half an em a character.
	perLine := max(20, int(widthIn*72/(noteSize*0.5))-4)
	var lines []string
	cur := ""
	for _, n := range notes {
		switch {
		case cur == "":
			cur = n
		case len([]rune(cur))+5+len([]rune(n)) <= perLine:
			cur += "     " + n
		default:
			lines = append(lines, cur)
			cur = n
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}
