package plots

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// decodePNGFile decodes the PNG at path, failing the test otherwise.
func decodePNGFile(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not a decodable PNG: %v", path, err)
	}
	return img
}

// checkPixels fails unless img is w×h pixels.
func checkPixels(t *testing.T, img image.Image, w, h int) {
	t.Helper()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("image is %d×%d pixels, want %d×%d", b.Dx(), b.Dy(), w, h)
	}
}

// checkSVG fails unless path holds well-formed XML that starts with an XML
// declaration or an <svg> element and has an <svg> root.
func checkSVG(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("<?xml")) && !bytes.HasPrefix(data, []byte("<svg")) {
		t.Fatalf("%s starts with %q, want <?xml or <svg", path, data[:min(20, len(data))])
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("%s has root element %q, want svg", path, root)
	}
	return data
}

// wantErr fails unless err is non-nil and its message contains every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func ramp(n int, f func(float64) float64) Series {
	s := Series{X: make([]float64, n), Y: make([]float64, n)}
	for i := range n {
		s.X[i] = float64(i)
		s.Y[i] = f(float64(i))
	}
	return s
}

func TestCurvesSaveFormatsAndSizes(t *testing.T) {
	dir := t.TempDir()
	a := ramp(50, func(x float64) float64 { return 200 * math.Exp(-x/10) })
	a.Name = "train"
	b := ramp(50, func(x float64) float64 { return 210 * math.Exp(-x/11) })
	b.Name = "test"
	p, err := Curves([]Series{a, b}, CurveOptions{Title: "loss", XLabel: "epoch", YLabel: "nats", Smooth: 5})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		w, h  float64
		wantW int
		wantH int
	}{
		{"default.png", 0, 0, 900, 600},
		{"small.PNG", 3, 2, 450, 300},
	} {
		path := filepath.Join(dir, tc.name)
		if err := Save(p, path, tc.w, tc.h); err != nil {
			t.Fatalf("Save %s: %v", tc.name, err)
		}
		checkPixels(t, decodePNGFile(t, path), tc.wantW, tc.wantH)
	}
	svg := filepath.Join(dir, "c.svg")
	if err := Save(p, svg, 0, 0); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg)
	pdf := filepath.Join(dir, "c.pdf")
	if err := Save(p, pdf, 0, 0); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(pdf); !bytes.HasPrefix(data, []byte("%PDF")) {
		t.Errorf("PDF output starts with %q", data[:min(8, len(data))])
	}

	// Log y-axis, including non-positive values that must be skipped.
	c := ramp(30, func(x float64) float64 { return 100 - 5*x }) // crosses zero
	p, err = Curves([]Series{c}, CurveOptions{LogY: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Save(p, filepath.Join(dir, "log.png"), 0, 0); err != nil {
		t.Fatal(err)
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	p, err := Curves([]Series{ramp(3, func(x float64) float64 { return x })}, CurveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, Save(p, filepath.Join(dir, "x.jpg"), 0, 0), `".jpg"`, ".png", ".svg", ".pdf")
	wantErr(t, Save(p, filepath.Join(dir, "noext"), 0, 0), "no file extension", ".png")
	wantErr(t, Save(nil, filepath.Join(dir, "x.png"), 0, 0), "nil")
	wantErr(t, Save(p, filepath.Join(dir, "x.png"), -1, 0), "Width -1")
	if _, err := os.Stat(filepath.Join(dir, "x.jpg")); !os.IsNotExist(err) {
		t.Errorf("a rejected Save left a file behind (stat err %v)", err)
	}

	// A gonum panic (log axis with a negative minimum) comes back as an error.
	bad := plot.New()
	bad.Y.Scale = plot.LogScale{}
	bad.Y.Min, bad.Y.Max = -1, 10
	wantErr(t, Save(bad, filepath.Join(dir, "bad.png"), 0, 0), "drawing")
}

func TestCurvesErrors(t *testing.T) {
	ok := ramp(3, func(x float64) float64 { return x })
	for _, tc := range []struct {
		name   string
		series []Series
		opt    CurveOptions
		parts  []string
	}{
		{"no series", nil, CurveOptions{}, []string{"at least one series"}},
		{"empty series", []Series{{Name: "kl"}}, CurveOptions{}, []string{`"kl"`, "empty"}},
		{"mismatched", []Series{{Name: "recon", X: []float64{1, 2, 3}, Y: []float64{1, 2}}}, CurveOptions{}, []string{`"recon"`, "X has 3", "Y has 2"}},
		{"negative smooth", []Series{ok}, CurveOptions{Smooth: -2}, []string{"Smooth window -2"}},
		{"negative height", []Series{ok}, CurveOptions{Height: -3}, []string{"Height -3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Curves(tc.series, tc.opt)
			wantErr(t, err, tc.parts...)
		})
	}
	_, err := Curves([]Series{{Name: "e"}}, CurveOptions{})
	if !errors.Is(err, errNoData) {
		t.Errorf("empty series error %v does not wrap errNoData", err)
	}
}

// TestNaNPointsAreGaps checks in the rendered pixels that a run of NaN
// points leaves a gap in the line, and that all-NaN series and ±Inf values
// draw without panicking.
func TestNaNPointsAreGaps(t *testing.T) {
	s := ramp(21, func(x float64) float64 { return x })
	for i := 8; i <= 12; i++ {
		s.Y[i] = math.NaN()
	}
	s.Y[3] = math.Inf(1)
	p, err := Curves([]Series{s}, CurveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gap.png")
	if err := Save(p, path, 0, 0); err != nil {
		t.Fatal(err)
	}
	img := decodePNGFile(t, path)

	// Where data x lands in pixels, computed as Save lays the plot out.
	c := vgimg.NewWith(vgimg.UseWH(6*vg.Inch, 4*vg.Inch), vgimg.UseDPI(DPI))
	dc := p.DataCanvas(draw.New(c))
	col := func(x float64) int { return int(dc.X(p.X.Norm(x)).Dots(DPI)) }
	isLine := func(c color.Color) bool { // palette[0], blue
		r, g, b, _ := c.RGBA()
		return r>>8 < 90 && g>>8 > 90 && g>>8 < 150 && b>>8 > 150
	}
	bluePixels := func(x int) int {
		n := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			if isLine(img.At(x, y)) {
				n++
			}
		}
		return n
	}
	if n := bluePixels(col(10)); n != 0 {
		t.Errorf("x=10 lies in a NaN gap but its pixel column has %d line pixels", n)
	}
	if n := bluePixels(col(5)); n == 0 {
		t.Errorf("x=5 is on the line but its pixel column has no line pixels")
	}

	// Unit check of the gap bookkeeping behind it.
	xs, ys := cleanPoints([]float64{0, 1, 2, 3, 4, 5, 6}, []float64{1, 2, math.NaN(), 4, 5, math.Inf(-1), 7}, false)
	runs := (&curve{xs: xs, ys: ys}).paths()
	if len(runs) != 3 || len(runs[0]) != 2 || len(runs[1]) != 2 || len(runs[2]) != 1 {
		t.Errorf("runs = %v, want lengths 2, 2, 1", runs)
	}
	_, ys = cleanPoints([]float64{0, 1, 2}, []float64{1, 0, -1}, true)
	if !math.IsNaN(ys[1]) || !math.IsNaN(ys[2]) || ys[0] != 1 {
		t.Errorf("log-axis cleaning gave %v, want [1 NaN NaN]", ys)
	}

	// Entirely non-finite series, alone and with others, linear and log.
	allNaN := Series{Name: "diverged", X: []float64{0, 1}, Y: []float64{math.NaN(), math.Inf(1)}}
	for _, opt := range []CurveOptions{{}, {LogY: true}, {Smooth: 3}} {
		for _, ss := range [][]Series{{allNaN}, {allNaN, s}} {
			p, err := Curves(ss, opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := Save(p, filepath.Join(t.TempDir(), "nan.png"), 0, 0); err != nil {
				t.Fatalf("opt %+v: %v", opt, err)
			}
		}
	}
}

func TestMovingAverage(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		in     []float64
		window int
		want   []float64
	}{
		{[]float64{1, 2, 3, 4, 5}, 3, []float64{1.5, 2, 3, 4, 4.5}},
		{[]float64{1, 2, 3, 4, 5}, 1, []float64{1, 2, 3, 4, 5}},
		{[]float64{1, nan, 3, 5}, 3, []float64{1, nan, 4, 4}},
		{[]float64{2, 4}, 10, []float64{3, 3}},
	} {
		got := movingAverage(tc.in, tc.window)
		for i := range got {
			same := got[i] == tc.want[i] || (math.IsNaN(got[i]) && math.IsNaN(tc.want[i]))
			if !same {
				t.Errorf("movingAverage(%v, %d) = %v, want %v", tc.in, tc.window, got, tc.want)
				break
			}
		}
	}
}

func TestLegendAvoidsData(t *testing.T) {
	place := func(f func(float64) float64) placement {
		t.Helper()
		s := ramp(50, f)
		xs, ys := cleanPoints(s.X, s.Y, false)
		cv := &curve{xs: xs, ys: ys}
		p := newPlot("", "x", "y")
		p.Add(cv)
		fixRange(&p.X, false)
		fixRange(&p.Y, false)
		leg := newLegend()
		leg.Add("a series", cv)
		where, ok := placeLegend(p, leg, cv.paths(), 6, 4)
		if !ok {
			t.Fatal("legend with an entry was not placed")
		}
		return where
	}
	if got := place(func(x float64) float64 { return math.Exp(-x / 8) }); got != topRight {
		t.Errorf("falling curve: legend at %d, want top right (%d)", got, topRight)
	}
	// A rising curve fills the bottom-left and top-right corners.
	if got := place(func(x float64) float64 { return 1 - math.Exp(-x/8) }); got != topLeft && got != bottomRight {
		t.Errorf("rising curve: legend at %d, want top left (%d) or bottom right (%d)", got, topLeft, bottomRight)
	}
	// A zigzag through every corner: the y-axis is raised to make room.
	s := ramp(50, func(x float64) float64 { return math.Cos(x * math.Pi) })
	xs, ys := cleanPoints(s.X, s.Y, false)
	cv := &curve{xs: xs, ys: ys}
	p := newPlot("", "", "")
	p.Add(cv)
	fixRange(&p.X, false)
	fixRange(&p.Y, false)
	leg := newLegend()
	leg.Add("cos", cv)
	if where, _ := placeLegend(p, leg, cv.paths(), 6, 4); where != topRight && where != topLeft {
		t.Errorf("busy curve: legend at %d, want a top corner above raised data", where)
	}
	if p.Y.Max <= 1 {
		t.Errorf("busy curve: y max %v was not raised above the data max 1", p.Y.Max)
	}
}

func TestTicks(t *testing.T) {
	labels := func(ticks []plot.Tick) string {
		var ls []string
		for _, tk := range ticks {
			if tk.Label != "" {
				ls = append(ls, tk.Label)
			}
		}
		return strings.Join(ls, " ")
	}
	for _, tc := range []struct {
		ticker plot.Ticker
		lo, hi float64
		want   string
	}{
		{niceTicks{5}, 0, 10, "0 2 4 6 8 10"},
		{niceTicks{5}, 1, 50, "10 20 30 40 50"},
		{niceTicks{5}, 0, 1, "0.0 0.2 0.4 0.6 0.8 1.0"},
		{niceTicks{5}, -5.3, 5.3, "-4 -2 0 2 4"},
		{niceTicks{5}, 0, 3e6, "0 5e+05 1e+06 1.5e+06 2e+06 2.5e+06 3e+06"},
		{logTicks{}, 1, 1000, "1 10 100 1000"},
		{logTicks{}, 3, 60, "5 10 20 50"},
		{logTicks{}, 90, 240, "100 150 200"},
	} {
		if got := labels(tc.ticker.Ticks(tc.lo, tc.hi)); got != tc.want {
			t.Errorf("%T.Ticks(%v, %v) labels %q, want %q", tc.ticker, tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestSavePanels(t *testing.T) {
	dir := t.TempDir()
	train := ramp(20, func(x float64) float64 { return 100 / (x + 1) })
	train.Name = "train"
	test := ramp(20, func(x float64) float64 { return 110 / (x + 1) })
	test.Name = "test"
	test.Y[7] = math.NaN()
	panels := []Panel{
		{Title: "recon", YLabel: "nats", Series: []Series{train, test}},
		{Title: "kl", Series: []Series{train}},
		{Title: "total", Series: []Series{train, test}},
	}
	for _, tc := range []struct {
		name         string
		cols         int
		opt          CurveOptions
		wantW, wantH int
	}{
		{"grid.png", 2, CurveOptions{XLabel: "epoch"}, 2 * 4 * DPI, 2 * 3 * DPI},
		{"row.png", 3, CurveOptions{Title: "run 3", LogY: true, Smooth: 3}, 3 * 4 * DPI, 3*DPI + int(titleBand*DPI)},
		{"clamped.png", 10, CurveOptions{Width: 2, Height: 2}, 3 * 2 * DPI, 2 * DPI},
		{"column.png", 1, CurveOptions{}, 4 * DPI, 3 * 3 * DPI},
		// Two short notes share one line, plus half a line of margin.
		{"notes.png", 3, CurveOptions{Notes: []string{"time/median_step_ms = 5.75", "time/train_seconds = 12.5"}},
			3 * 4 * DPI, 3*DPI + int(math.Round(1.5*noteLine*DPI))},
	} {
		path := filepath.Join(dir, tc.name)
		if err := SavePanels(path, panels, tc.cols, tc.opt); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		checkPixels(t, decodePNGFile(t, path), tc.wantW, tc.wantH)
	}
	svg := filepath.Join(dir, "panels.svg")
	if err := SavePanels(svg, panels, 2, CurveOptions{Title: "a <title> & more"}); err != nil {
		t.Fatal(err)
	}
	checkSVG(t, svg)

	wantErr(t, SavePanels(filepath.Join(dir, "p.gif"), panels, 2, CurveOptions{}), `".gif"`, ".png", ".svg")
	wantErr(t, SavePanels(filepath.Join(dir, "p.png"), panels, 0, CurveOptions{}), "cols is 0")
	wantErr(t, SavePanels(filepath.Join(dir, "p.png"), nil, 2, CurveOptions{}), "no panels")
	// Only single values: a figure of text alone.
	notesOnly := filepath.Join(dir, "notes-only.png")
	if err := SavePanels(notesOnly, nil, 2, CurveOptions{Title: "run 4", Notes: []string{"test/nelbo = 98.1"}}); err != nil {
		t.Fatal(err)
	}
	checkPixels(t, decodePNGFile(t, notesOnly), 4*DPI, int(math.Round((titleBand+1.5*noteLine)*DPI)))
	wantErr(t, SavePanels(filepath.Join(dir, "p.png"), []Panel{{Title: "kl"}}, 2, CurveOptions{}), `panel 0 ("kl") has no series`)
	bad := []Panel{{Title: "kl", Series: []Series{{Name: "train", X: []float64{1}, Y: []float64{1, 2}}}}}
	wantErr(t, SavePanels(filepath.Join(dir, "p.png"), bad, 2, CurveOptions{}), `panel 0 ("kl")`, `"train"`, "X has 1")
}

func TestNoteLines(t *testing.T) {
	short := []string{"a = 1", "b = 2", "c = 3"}
	if got := noteLines(short, 8); len(got) != 1 || got[0] != "a = 1     b = 2     c = 3" {
		t.Errorf("short notes on one 8-inch line: %q", got)
	}
	long := []string{strings.Repeat("x", 60), strings.Repeat("y", 60), "z = 1"}
	if got := noteLines(long, 4); len(got) != 3 {
		t.Errorf("notes wider than a 4-inch line, one a line: %q", got)
	}
}

func TestPanelColoursFollowNames(t *testing.T) {
	// "test" alone in a panel must still get the colour it has beside "train".
	train := ramp(5, func(x float64) float64 { return x })
	train.Name = "train"
	test := ramp(5, func(x float64) float64 { return x + 1 })
	test.Name = "test"
	path := filepath.Join(t.TempDir(), "p.png")
	if err := SavePanels(path, []Panel{{Series: []Series{train, test}}, {Series: []Series{test}}}, 2, CurveOptions{}); err != nil {
		t.Fatal(err)
	}
	img := decodePNGFile(t, path)
	// The right panel must contain palette[1] (orange) and no palette[0] (blue).
	orange, blue := 0, 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X + b.Dx()/2; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			switch (color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}) {
			case color.RGBA{palette[1].R, palette[1].G, palette[1].B, 255}:
				orange++
			case color.RGBA{palette[0].R, palette[0].G, palette[0].B, 255}:
				blue++
			}
		}
	}
	if orange == 0 || blue != 0 {
		t.Errorf("right panel has %d orange and %d blue pixels, want test drawn in orange only", orange, blue)
	}
}

func TestImageGridSize(t *testing.T) {
	img := func() []float32 { return make([]float32, 28*28) }
	batch := func(n int) [][]float32 {
		b := make([][]float32, n)
		for i := range b {
			b[i] = img()
		}
		return b
	}
	for _, tc := range []struct {
		name         string
		n, cols      int
		opt          GridOptions
		wantW, wantH int
	}{
		// 8 cols × 2 rows of 56-px images, 1-px separators and border.
		{"16 imgs cols 8 pad 1 scale 2", 16, 8, GridOptions{Scale: 2, Pad: 1}, 8*56 + 9, 2*56 + 3},
		{"defaults", 16, 8, GridOptions{}, 8*28 + 9, 2*28 + 3},
		{"pad 2", 10, 4, GridOptions{Pad: 2}, 4*28 + 5*2, 3*28 + 4*2},
		{"no pad", 6, 3, GridOptions{Pad: -1, Scale: 3}, 3 * 84, 2 * 84},
		{"cols beyond n", 3, 8, GridOptions{}, 3*28 + 4, 28 + 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ImageGrid(batch(tc.n), 28, 28, tc.cols, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkPixels(t, g, tc.wantW, tc.wantH)
		})
	}
}

func TestImageGridGreyValues(t *testing.T) {
	// Two 2×2 images; the second has out-of-range and NaN values.
	a := []float32{0, 1, 1, 0}
	b := []float32{-0.5, 1.5, float32(math.NaN()), 0.5}
	g, err := ImageGrid([][]float32{a, b}, 2, 2, 2, GridOptions{Pad: 1, Border: 77})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]uint8{ // 7×4: border 77, images at x=1..2 and x=4..5, y=1..2
		{77, 77, 77, 77, 77, 77, 77},
		{77, 0, 255, 77, 0, 255, 77},
		{77, 255, 0, 77, 0, 128, 77},
		{77, 77, 77, 77, 77, 77, 77},
	}
	// Round-trip through PNG so the encoding is checked too.
	data, err := EncodePNG(g)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	checkPixels(t, dec, 7, 4)
	for y, row := range want {
		for x, v := range row {
			if got := color.GrayModel.Convert(dec.At(x, y)).(color.Gray).Y; got != v {
				t.Errorf("pixel (%d,%d) = %d, want %d", x, y, got, v)
			}
		}
	}

	// Scale 2 repeats each pixel into a 2×2 block.
	g, err = ImageGrid([][]float32{a}, 2, 2, 1, GridOptions{Scale: 2, Pad: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := g.Pix, []uint8{0, 0, 255, 255, 0, 0, 255, 255, 255, 255, 0, 0, 255, 255, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("scaled pixels = %v, want %v", got, want)
	}
}

func TestReconstructionGrid(t *testing.T) {
	white := make([]float32, 4*4)
	for i := range white {
		white[i] = 1
	}
	black := make([]float32, 4*4)
	n := 5
	origs, recs := make([][]float32, n), make([][]float32, n)
	for i := range n {
		origs[i], recs[i] = white, black
	}
	// 5 pairs in 3 columns: two pair-rows, so four rows of cells.
	g, err := ReconstructionGrid(origs, recs, 4, 4, 3, GridOptions{Scale: 2, Pad: 1, Border: 100})
	if err != nil {
		t.Fatal(err)
	}
	k, c, s, p := 2, 3, 2, 1
	checkPixels(t, g, c*4*s+(c+1)*p, 2*k*4*s+3*k*p)
	cellTop := []int{1, 1 + 8 + 1, 1 + 2*(8+1) + 1, 1 + 3*(8+1) + 1} // extra pad before the second pair
	wantRow := []uint8{255, 0, 255, 0}
	for r, y := range cellTop {
		if got := g.GrayAt(1+3, y+3).Y; got != wantRow[r] {
			t.Errorf("row %d (top y=%d) = %d, want %d (originals white, reconstructions black)", r, y, got, wantRow[r])
		}
	}
	// The double separator between pair-rows is border grey.
	if got := g.GrayAt(4, cellTop[2]-1).Y; got != 100 {
		t.Errorf("pair separator = %d, want 100", got)
	}
	if got := g.GrayAt(4, cellTop[2]-2).Y; got != 100 {
		t.Errorf("pair separator (second pixel) = %d, want 100", got)
	}
	// The sixth cell of the last pair-row is empty: border grey.
	if got := g.GrayAt(1+2*(8+1)+3, cellTop[2]+3).Y; got != 100 {
		t.Errorf("empty cell = %d, want border 100", got)
	}
}

func TestGridErrors(t *testing.T) {
	img := make([]float32, 4)
	for _, tc := range []struct {
		name  string
		err   error
		parts []string
	}{
		{"zero cols", func() error { _, err := ImageGrid([][]float32{img}, 2, 2, 0, GridOptions{}); return err }(), []string{"cols is 0"}},
		{"no images", func() error { _, err := ImageGrid(nil, 2, 2, 4, GridOptions{}); return err }(), []string{"no images"}},
		{"bad length", func() error {
			_, err := ImageGrid([][]float32{img, make([]float32, 5)}, 2, 2, 4, GridOptions{})
			return err
		}(), []string{"images[1]", "5 values", "2*2 = 4"}},
		{"bad size", func() error { _, err := ImageGrid([][]float32{img}, 0, 4, 4, GridOptions{}); return err }(), []string{"0×4"}},
		{"negative scale", func() error { _, err := ImageGrid([][]float32{img}, 2, 2, 1, GridOptions{Scale: -2}); return err }(), []string{"Scale -2"}},
		{"huge", func() error { _, err := ImageGrid([][]float32{img}, 2, 2, 1, GridOptions{Scale: 1 << 15}); return err }(), []string{"too large"}},
		{"pairs mismatch", func() error {
			_, err := ReconstructionGrid([][]float32{img, img}, [][]float32{img}, 2, 2, 2, GridOptions{})
			return err
		}(), []string{"2 originals", "1 reconstructions"}},
		{"recon bad length", func() error {
			_, err := ReconstructionGrid([][]float32{img}, [][]float32{{1}}, 2, 2, 2, GridOptions{})
			return err
		}(), []string{"recons[0]"}},
		{"recon zero cols", func() error {
			_, err := ReconstructionGrid([][]float32{img}, [][]float32{img}, 2, 2, 0, GridOptions{})
			return err
		}(), []string{"cols is 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.parts...) })
	}
	if _, err := EncodePNG(nil); err == nil {
		t.Error("EncodePNG(nil) gave no error")
	}
}

func TestSaveImage(t *testing.T) {
	dir := t.TempDir()
	g, err := ImageGrid([][]float32{{0, 1, 1, 0}}, 2, 2, 1, GridOptions{Scale: 3})
	if err != nil {
		t.Fatal(err)
	}
	pngPath := filepath.Join(dir, "g.png")
	if err := SaveImage(g, pngPath); err != nil {
		t.Fatal(err)
	}
	dec := decodePNGFile(t, pngPath)
	checkPixels(t, dec, 8, 8)
	if got := color.GrayModel.Convert(dec.At(4, 1)).(color.Gray).Y; got != 255 {
		t.Errorf("decoded pixel (4,1) = %d, want 255", got)
	}

	svgPath := filepath.Join(dir, "g.svg")
	if err := SaveImage(g, svgPath); err != nil {
		t.Fatal(err)
	}
	data := checkSVG(t, svgPath)
	m := regexp.MustCompile(`data:image/png;base64,([A-Za-z0-9+/=]+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("SVG has no embedded PNG")
	}
	raw, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	emb, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	checkPixels(t, emb, 8, 8)
	if !bytes.Contains(data, []byte(`width="8" height="8"`)) {
		t.Error("SVG does not declare the image's 8×8 size")
	}

	wantErr(t, SaveImage(g, filepath.Join(dir, "g.pdf")), `".pdf"`, ".png", ".svg")
	wantErr(t, SaveImage(nil, filepath.Join(dir, "n.png")), "nil")
}

func TestLatentScatter(t *testing.T) {
	var xs, ys []float64
	var labels []int
	for i := range 1000 {
		c := i % 10
		a := 2 * math.Pi * float64(c) / 10
		xs = append(xs, 3*math.Cos(a)+0.3*math.Sin(float64(i)))
		ys = append(ys, 3*math.Sin(a)+0.3*math.Cos(float64(i*7)))
		labels = append(labels, c)
	}
	xs[5], ys[6] = math.NaN(), math.Inf(1)
	p, err := LatentScatter(xs, ys, labels, CurveOptions{Title: "z", XLabel: "z₁", YLabel: "z₂"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "latent.png")
	if err := Save(p, path, 0, 0); err != nil {
		t.Fatal(err)
	}
	img := decodePNGFile(t, path)
	checkPixels(t, img, 900, 600)
	// Each class colour appears at full strength (in the legend markers).
	seen := map[color.NRGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}] = true
		}
	}
	for i, c := range palette {
		if !seen[c] {
			t.Errorf("class %d colour %v not found in the image", i, c)
		}
	}
	// The ten colours are far apart from each other.
	for i := range palette {
		for j := i + 1; j < len(palette); j++ {
			a, b := palette[i], palette[j]
			d := math.Abs(float64(a.R)-float64(b.R)) + math.Abs(float64(a.G)-float64(b.G)) + math.Abs(float64(a.B)-float64(b.B))
			if d < 60 {
				t.Errorf("palette colours %d and %d are only %v apart", i, j, d)
			}
		}
	}

	if _, err := LatentScatter(xs[:3], ys[:3], nil, CurveOptions{}); err != nil {
		t.Errorf("unlabelled scatter: %v", err)
	}
	_, err = LatentScatter(xs[:3], ys[:2], nil, CurveOptions{})
	wantErr(t, err, "3 xs", "2 ys")
	_, err = LatentScatter(xs[:3], ys[:3], labels[:2], CurveOptions{})
	wantErr(t, err, "3 points", "2 labels")
	_, err = LatentScatter(nil, nil, nil, CurveOptions{})
	wantErr(t, err, "no points")
	_, err = LatentScatter(xs, ys, labels, CurveOptions{LogY: true})
	wantErr(t, err, "LogY")
}

func TestErrorBars(t *testing.T) {
	dir := t.TempDir()
	cat := []Group{
		{Label: "VAE", Mean: 96, Std: 1, Min: 94, Max: 98, N: 5},
		{Label: "β-VAE", Mean: 101, Std: 2, Min: 98, Max: 104, N: 5},
		{Label: "broken", Mean: math.NaN(), N: 1},
		{Label: "no std", Mean: 90, Std: math.NaN()},
	}
	num := []Group{
		{Label: "0.5", Mean: 92, Std: 0.5, N: 3},
		{Label: "1", Mean: 93, Std: 0.5, N: 3},
		{Label: "2", Mean: 95, Std: 0.5, Min: 94, Max: 96, N: 3},
		{Label: "4", Mean: 98, Std: 0.5, N: 3},
		{Label: "8", Mean: 100, Std: 0.5, N: 3},
	}
	for name, groups := range map[string][]Group{"cat": cat, "num": num} {
		for _, logY := range []bool{false, true} {
			p, err := ErrorBars(groups, CurveOptions{Title: name, LogY: logY})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			path := filepath.Join(dir, name+".png")
			if err := Save(p, path, 0, 0); err != nil {
				t.Fatalf("%s log=%v: %v", name, logY, err)
			}
			checkPixels(t, decodePNGFile(t, path), 900, 600)
		}
	}
	if !useLogX([]float64{0.25, 0.5, 1, 2, 4, 8}) {
		t.Error("a doubling sweep should get a log x-axis")
	}
	if useLogX([]float64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}) {
		t.Error("evenly spaced values should keep a linear x-axis")
	}
	if useLogX([]float64{1, 2, 4}) {
		t.Error("a span under a factor of 8 should keep a linear x-axis")
	}

	_, err := ErrorBars(nil, CurveOptions{})
	wantErr(t, err, "no groups")
	_, err = ErrorBars([]Group{{Label: "a", Std: -1}}, CurveOptions{})
	wantErr(t, err, `"a"`, "Std -1")
	_, err = ErrorBars([]Group{{Label: "b", Min: 3, Max: 1}}, CurveOptions{})
	wantErr(t, err, `"b"`, "Max 1 < Min 3")
	_, err = ErrorBars(cat, CurveOptions{Smooth: 4})
	wantErr(t, err, "Smooth")
}

func TestDecimateKeepsEnvelope(t *testing.T) {
	var pts []vg.Point
	for i := range 100000 {
		pts = append(pts, vg.Point{X: vg.Length(i) / 1000, Y: vg.Length(math.Sin(float64(i)))})
	}
	out := decimate(pts, 1)
	if len(out) > 4*100+1 {
		t.Errorf("decimated to %d points, want at most 4 per bucket (401)", len(out))
	}
	lo, hi := out[0].Y, out[0].Y
	for _, p := range out {
		lo, hi = min(lo, p.Y), max(hi, p.Y)
	}
	if hi < 0.9999 || lo > -0.9999 {
		t.Errorf("decimated envelope [%v, %v] lost the extremes ±1", lo, hi)
	}
	if out[0] != pts[0] || out[len(out)-1] != pts[len(pts)-1] {
		t.Error("decimation moved the end points")
	}
	if short := pts[:100]; len(decimate(short, 1)) != 100 {
		t.Error("short polylines must be drawn as they are")
	}
}

func TestSkipTransientFitsTheTail(t *testing.T) {
	x := make([]float64, 200)
	y := make([]float64, 200)
	for i := range x {
		x[i] = float64(i)
		y[i] = 100 + 10*math.Exp(-float64(i)/50)
	}
	y[0], y[1] = 550, 400 // the first steps of a VAE loss
	p, err := Curves([]Series{{Name: "train", X: x, Y: y}, {Name: "test", X: []float64{199}, Y: []float64{98}}}, CurveOptions{SkipTransient: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if p.Y.Max > 115 || p.Y.Min > 98 || p.Y.Min < 90 {
		t.Errorf("y-range [%g, %g], want about [97, 111]: the spike should not set it and the single test point should", p.Y.Min, p.Y.Max)
	}
	full, _ := Curves([]Series{{Name: "train", X: x, Y: y}}, CurveOptions{})
	if full.Y.Max < 550 {
		t.Errorf("without SkipTransient the range should include the spike, got max %g", full.Y.Max)
	}
	if _, err := Curves([]Series{{X: x, Y: y}}, CurveOptions{SkipTransient: 0.9}); err == nil {
		t.Error("SkipTransient 0.9 accepted")
	}
}
