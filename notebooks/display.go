package notebooks

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/vae"
)

// screenDPI is the pixel density figures are shown at: plots renders PNGs at
// plots.DPI (150) and the notebook shows them at 100 pixels per inch, so a 6
// inch figure is 600 pixels wide and sharp on high-density screens.
const screenDPI = 100

// PNG shows PNG bytes widthPx pixels wide (0: their own width). With a
// non-empty id the image replaces the one shown before under the same id
// (a figure redrawn in place, as LivePlot does).
func PNG(png []byte, widthPx int, id string) {
	if !gonbui.IsNotebook {
		return
	}
	d := &protocol.DisplayData{Data: map[protocol.MIMEType]any{protocol.MIMEImagePNG: png}, DisplayID: id}
	if widthPx > 0 {
		// map[string]int is one of the types gonbui registers with gob for the pipe to the kernel.
		d.Metadata = map[string]any{string(protocol.MIMEImagePNG): map[string]int{"width": widthPx}}
	}
	gonbui.SendData(d)
}

// Image shows an image, each pixel scale×scale screen pixels (0 or 1: 1:1).
func Image(img image.Image, scale int) error {
	png, err := plots.EncodePNG(img)
	if err != nil {
		return err
	}
	PNG(png, img.Bounds().Dx()*max(scale, 1), "")
	return nil
}

// PlotPNG renders a gonum plot as PNG, widthIn×heightIn inches (0: 6×4) at plots.DPI.
func PlotPNG(p *plot.Plot, widthIn, heightIn float64) (png []byte, err error) {
	if p == nil {
		return nil, fmt.Errorf("notebooks: no plot to draw")
	}
	if widthIn == 0 {
		widthIn = 6
	}
	if heightIn == 0 {
		heightIn = 4
	}
	c := vgimg.PngCanvas{Canvas: vgimg.NewWith(
		vgimg.UseWH(vg.Length(widthIn)*vg.Inch, vg.Length(heightIn)*vg.Inch), vgimg.UseDPI(plots.DPI))}
	defer func() {
		if r := recover(); r != nil { // gonum/plot panics on some degenerate input
			err = fmt.Errorf("notebooks: draw plot: %v", r)
		}
	}()
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("notebooks: encode plot: %w", err)
	}
	return buf.Bytes(), nil
}

// Plot shows a gonum plot (from plots.Curves, plots.LatentScatter,
// plots.ErrorBars...) widthIn×heightIn inches (0: 6×4).
func Plot(p *plot.Plot, widthIn, heightIn float64) error {
	png, err := PlotPNG(p, widthIn, heightIn)
	if err != nil {
		return err
	}
	if widthIn == 0 {
		widthIn = 6
	}
	PNG(png, int(widthIn*screenDPI), "")
	return nil
}

// Row shows PNG images side by side (wrapping on a narrow screen), each
// widthPx pixels wide (0: its own width), with an optional caption under each.
func Row(widthPx int, captions []string, pngs ...[]byte) {
	var b strings.Builder
	b.WriteString(`<div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start">`)
	for i, png := range pngs {
		b.WriteString(`<figure style="margin:0">`)
		width := ""
		if widthPx > 0 {
			width = fmt.Sprintf(` width="%d"`, widthPx)
		}
		fmt.Fprintf(&b, `<img%s src="data:image/png;base64,%s">`, width, base64.StdEncoding.EncodeToString(png))
		if i < len(captions) && captions[i] != "" {
			fmt.Fprintf(&b, `<figcaption style="text-align:center">%s</figcaption>`, html.EscapeString(captions[i]))
		}
		b.WriteString(`</figure>`)
	}
	b.WriteString(`</div>`)
	HTML(b.String())
}

// Panels shows plots.SavePanels' figure: one panel per metric, cols per row.
func Panels(panels []plots.Panel, cols int, opt plots.CurveOptions) error {
	tmp, err := os.MkdirTemp("", "vaexp-panels-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "panels.png")
	if err := plots.SavePanels(path, panels, cols, opt); err != nil {
		return err
	}
	png, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	w := opt.Width
	if w == 0 {
		w = 4
	}
	PNG(png, int(w*float64(min(cols, len(panels)))*screenDPI), "")
	return nil
}

// GridPNG tiles images (pixel values in [0, 1] of the given shape) into a
// PNG grid of cols columns, each pixel drawn scale×scale.
func GridPNG(images [][]float32, shape vae.Shape, cols, scale int) ([]byte, error) {
	img, err := plots.ImageGrid(images, shape.Height, shape.Width, cols, plots.GridOptions{Scale: scale})
	if err != nil {
		return nil, err
	}
	return plots.EncodePNG(img)
}

// Grid shows images (pixel values in [0, 1] of the given shape) as a grid of
// cols columns, each pixel drawn scale×scale.
func Grid(images [][]float32, shape vae.Shape, cols, scale int) error {
	img, err := plots.ImageGrid(images, shape.Height, shape.Width, cols, plots.GridOptions{Scale: scale})
	if err != nil {
		return err
	}
	return Image(img, 1)
}

// ReconstructionGrid shows originals above their reconstructions, cols pairs per row.
func ReconstructionGrid(originals, recons [][]float32, shape vae.Shape, cols, scale int) error {
	img, err := plots.ReconstructionGrid(originals, recons, shape.Height, shape.Width, cols, plots.GridOptions{Scale: scale})
	if err != nil {
		return err
	}
	return Image(img, 1)
}

// Markdown shows Markdown text (with $…$ formulas).
func Markdown(md string) { gonbui.DisplayMarkdown(md) }

// HTML shows an HTML fragment.
func HTML(fragment string) { gonbui.DisplayHTML(fragment) }

// Table is a small table of results shown as HTML: text cells left-aligned,
// numbers right-aligned with Digits decimals.
type Table struct {
	// Caption is shown above the table (optional).
	Caption string
	// Header names the columns.
	Header []string
	// Rows hold one value per column: string, float64, float32, int, int64,
	// or nil (shown as "–"). Non-finite floats are shown as "–" too.
	Rows [][]any
	// Digits is the number of decimals of floats (default 1).
	Digits int
	// Best marks, per column, whether its smallest value is shown in bold
	// (for losses, where smaller is better).
	Best []bool
}

// AddRow appends a row.
func (t *Table) AddRow(cells ...any) { t.Rows = append(t.Rows, cells) }

// HTML renders the table.
func (t *Table) HTML() string {
	digits := t.Digits
	if digits == 0 {
		digits = 1
	}
	// A column is numeric (right-aligned, header too) when its cells are numbers or empty.
	// Alignment is written twice: Jupyter strips style attributes from an
	// untrusted notebook's HTML but keeps align.
	numeric := make([]bool, len(t.Header))
	best := make([]float64, len(t.Header))
	for c := range t.Header {
		numeric[c] = true
		best[c] = math.Inf(1)
		for _, r := range t.Rows {
			v := cell(r, c)
			f, ok := number(v)
			if !ok && v != nil {
				numeric[c] = false
			}
			if ok && f < best[c] {
				best[c] = f
			}
		}
	}
	align := func(c int) string {
		if numeric[c] {
			return "right"
		}
		return "left"
	}
	var b strings.Builder
	b.WriteString(`<div style="margin:4px 0">`)
	if t.Caption != "" {
		fmt.Fprintf(&b, `<div style="margin-bottom:4px"><b>%s</b></div>`, html.EscapeString(t.Caption))
	}
	b.WriteString(`<table style="border-collapse:collapse;font-variant-numeric:tabular-nums;margin:0"><thead><tr>`)
	for c, h := range t.Header {
		fmt.Fprintf(&b, `<th align="%s" style="padding:3px 12px;border-bottom:1px solid #888;text-align:%[1]s">%s</th>`, align(c), html.EscapeString(h))
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range t.Rows {
		b.WriteString("<tr>")
		for c := range t.Header {
			v := cell(r, c)
			text := "–"
			f, isNum := number(v)
			switch {
			case isNum && (math.IsNaN(f) || math.IsInf(f, 0)):
			case isNum:
				switch v.(type) {
				case int, int64:
					text = fmt.Sprint(v)
				default:
					text = fmt.Sprintf("%.*f", digits, f)
				}
			case v != nil:
				text = fmt.Sprint(v)
			}
			text = html.EscapeString(text)
			if isNum && c < len(t.Best) && t.Best[c] && f == best[c] {
				text = "<b>" + text + "</b>"
			}
			fmt.Fprintf(&b, `<td align="%s" style="padding:3px 12px;text-align:%[1]s">%s</td>`, align(c), text)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table></div>")
	return b.String()
}

// Show displays the table.
func (t *Table) Show() { HTML(t.HTML()) }

func cell(row []any, c int) any {
	if c < len(row) {
		return row[c]
	}
	return nil
}

// number reads the numeric cell types.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}
