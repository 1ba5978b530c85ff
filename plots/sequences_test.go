package plots

import (
	"bytes"
	"image/color"
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// movingDot returns n sequences of frames h×w frames in which one white
// pixel walks along row i of sequence i, one column per frame.
func movingDot(n, frames, h, w int) [][]float32 {
	seqs := make([][]float32, n)
	for i := range seqs {
		s := make([]float32, frames*h*w)
		for f := range frames {
			s[f*h*w+(i%h)*w+f%w] = 1
		}
		seqs[i] = s
	}
	return seqs
}

func TestFrameStrip(t *testing.T) {
	const n, frames, h, w = 3, 5, 4, 6
	img, err := FrameStrip(movingDot(n, frames, h, w), frames, h, w, GridOptions{Scale: 2, Border: 50})
	if err != nil {
		t.Fatal(err)
	}
	// frames·w·s + (frames+1)·p wide, n·h·s + (n+1)·p tall.
	checkPixels(t, img, frames*w*2+frames+1, n*h*2+n+1)
	for i := range n {
		for f := range frames {
			// The dot of sequence i, frame f: row i, column f of cell (i, f).
			x0, y0 := 1+f*(w*2+1), 1+i*(h*2+1)
			for y := range h * 2 {
				for x := range w * 2 {
					want := uint8(0)
					if y/2 == i && x/2 == f {
						want = 255
					}
					if got := img.GrayAt(x0+x, y0+y).Y; got != want {
						t.Fatalf("sequence %d frame %d pixel (%d, %d) = %d, want %d", i, f, x, y, got, want)
					}
				}
			}
		}
	}
	if img.GrayAt(0, 0).Y != 50 {
		t.Error("the border is not the Border grey")
	}
	for name, call := range map[string]func() error{
		"no sequences": func() error { _, err := FrameStrip(nil, frames, h, w, GridOptions{}); return err },
		"wrong length": func() error {
			_, err := FrameStrip([][]float32{make([]float32, 7)}, frames, h, w, GridOptions{})
			return err
		},
		"no frames": func() error { _, err := FrameStrip(movingDot(1, 1, h, w), 0, h, w, GridOptions{}); return err },
		"bad size":  func() error { _, err := FrameStrip(movingDot(1, 1, h, w), 1, 0, w, GridOptions{}); return err },
	} {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSequenceGIF(t *testing.T) {
	const n, frames, h, w = 5, 4, 3, 4
	g, err := SequenceGIF(movingDot(n, frames, h, w), frames, h, w, GIFOptions{Cols: 3, Delay: 10, Hold: 50})
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeGIF(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := gif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a decodable GIF: %v", err)
	}
	if len(back.Image) != frames || back.Delay[0] != 10 || back.Delay[frames-1] != 60 || back.LoopCount != 0 {
		t.Fatalf("%d frames, delays %v, loop %d; want %d frames, 10 then 60 on the last, looping", len(back.Image), back.Delay, back.LoopCount, frames)
	}
	// 3 columns, 2 rows of cells at scale 1 and pad 1.
	wantW, wantH := 3*w+4, 2*h+3
	for f, img := range back.Image {
		if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
			t.Fatalf("frame %d is %v, want %d×%d", f, b, wantW, wantH)
		}
		for i := range n {
			x0, y0 := 1+(i%3)*(w+1), 1+(i/3)*(h+1)
			for y := range h {
				for x := range w {
					want := uint8(0)
					if y == i%h && x == f%w {
						want = 255
					}
					if got := color.GrayModel.Convert(img.At(x0+x, y0+y)).(color.Gray).Y; got != want {
						t.Fatalf("GIF frame %d sequence %d pixel (%d, %d) = %d, want %d", f, i, x, y, got, want)
					}
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "seq.gif")
	if err := SaveGIF(g, path); err != nil {
		t.Fatal(err)
	}
	if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, data) {
		t.Error("SaveGIF wrote other bytes than EncodeGIF")
	}
	if err := SaveGIF(g, filepath.Join(t.TempDir(), "seq.png")); err == nil || !strings.Contains(err.Error(), ".gif") {
		t.Errorf("a .png path for a GIF: %v", err)
	}
	if _, err := SequenceGIF(movingDot(1, 2, h, w), 2, h, w, GIFOptions{Delay: -1}); err == nil {
		t.Error("a negative delay was accepted")
	}
	if _, err := EncodeGIF(&gif.GIF{}); err == nil {
		t.Error("an empty GIF was encoded")
	}
}

func TestQuantileBands(t *testing.T) {
	// 101 samples whose value at step k is j·(k+1) for sample j = 0..100,
	// shuffled: the q quantile at step k is 100q·(k+1).
	samples := make([][]float32, 101)
	for j := range samples {
		v := (j * 37) % 101
		samples[j] = []float32{float32(v), float32(2 * v), float32(math.NaN())}
	}
	lo, med, hi := quantileBands(samples, 0.1)
	for k, want := range [][3]float64{{10, 50, 90}, {20, 100, 180}} {
		if math.Abs(lo[k]-want[0]) > 1.01*float64(k+1) || math.Abs(med[k]-want[1]) > 1.01*float64(k+1) || math.Abs(hi[k]-want[2]) > 1.01*float64(k+1) {
			t.Errorf("step %d: quantiles %.1f, %.1f, %.1f; want ≈ %v", k, lo[k], med[k], hi[k], want)
		}
	}
	if !math.IsNaN(lo[2]) || !math.IsNaN(med[2]) {
		t.Error("a step without finite samples has quantiles")
	}
}

// bandPixels counts the pixels of a forecast PNG tinted like the band
// (light blue: the palette's blue at alpha 60 over white), and returns the
// first column and the width of the widest run of columns holding any (the
// band, not the legend's swatch; gaps of up to 3 columns, where a grid line
// runs under the band, do not break a run).
func bandPixels(t *testing.T, data []byte) (count, from, width int) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	cols := make([]int, b.Dx())
	for x := range cols {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			r, g, bl, _ := img.At(b.Min.X+x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			if bl > 225 && g > 205 && g < 240 && r > 190 && r < 225 && bl > r+15 {
				cols[x]++
			}
		}
		count += cols[x]
	}
	start, gap := -1, 0
	for x, c := range cols {
		switch {
		case c > 0 && start < 0:
			start, gap = x, 0
		case c > 0:
			gap = 0
		case start >= 0:
			if gap++; gap > 3 {
				start = -1
				continue
			}
		}
		if start >= 0 && c > 0 && x-start+1 > width {
			from, width = start, x-start+1
		}
	}
	return count, from, width
}

func TestForecastPlot(t *testing.T) {
	const n, prefix = 100, 60
	truth := make([]float32, n)
	for i := range truth {
		truth[i] = float32(math.Sin(float64(i) / 8))
	}
	samples := func(spread float64) [][]float32 {
		out := make([][]float32, 50)
		for j := range out {
			s := make([]float32, n-prefix)
			for k := range s {
				s[k] = truth[prefix+k] + float32(spread*float64(j-25)/25)
			}
			out[j] = s
		}
		return out
	}
	draw := func(f Forecast) []byte {
		p, err := ForecastPlot(f, CurveOptions{Title: "forecast", XLabel: "step"})
		if err != nil {
			t.Fatal(err)
		}
		data, err := EncodeFigure(p, ".png", 6, 4)
		if err != nil {
			t.Fatal(err)
		}
		img, _ := png.Decode(bytes.NewReader(data))
		checkPixels(t, img, 6*DPI, 4*DPI)
		return data
	}
	narrow, nFrom, nWidth := bandPixels(t, draw(Forecast{Truth: truth, Prefix: prefix, Samples: samples(0.2)}))
	wide, wFrom, wWidth := bandPixels(t, draw(Forecast{Truth: truth, Prefix: prefix, Samples: samples(1)}))
	if narrow < 500 || wide < 2*narrow {
		t.Errorf("band of %d pixels for a narrow spread, %d for a 5× wider one", narrow, wide)
	}
	// The band spans the forecast: from 60 % of the way along the axis to
	// its end (about a third of the figure's width).
	for _, run := range [][2]int{{nFrom, nWidth}, {wFrom, wWidth}} {
		if from, width := float64(run[0])/(6*DPI), float64(run[1])/(6*DPI); from < 0.5 || from > 0.7 || width < 0.25 || width > 0.45 {
			t.Errorf("band from %.0f %% of the width over %.0f %%; want from ≈ 60 %% over ≈ 35 %%", 100*from, 100*width)
		}
	}
	for name, f := range map[string]Forecast{
		"no truth":   {Samples: samples(1)},
		"no samples": {Truth: truth, Prefix: prefix},
		"prefix":     {Truth: truth, Prefix: n + 1, Samples: samples(1)},
		"band":       {Truth: truth, Prefix: prefix, Samples: samples(1), Band: 0.5},
		"ragged":     {Truth: truth, Prefix: prefix, Samples: [][]float32{{1, 2}, {1}}},
	} {
		if _, err := ForecastPlot(f, CurveOptions{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := ForecastPlot(Forecast{Truth: truth, Prefix: prefix, Samples: samples(1)}, CurveOptions{LogY: true}); err == nil {
		t.Error("LogY was accepted")
	}
}

func TestEncodeFigureMatchesSave(t *testing.T) {
	p, err := Curves([]Series{{Name: "a", X: []float64{0, 1, 2}, Y: []float64{1, 3, 2}}}, CurveOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := EncodeFigure(p, ".svg", 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "f.svg")
	if err := Save(p, path, 3, 2); err != nil {
		t.Fatal(err)
	}
	if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, svg) {
		t.Error("Save and EncodeFigure differ")
	}
	if _, err := EncodeFigure(p, ".gif", 3, 2); err == nil {
		t.Error("a .gif figure was accepted")
	}
	panels, err := EncodePanels("x.png", []Panel{{Title: "a", Series: []Series{{X: []float64{0, 1}, Y: []float64{0, 1}}}}}, 1, CurveOptions{Width: 2, Height: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(panels))
	if err != nil {
		t.Fatal(err)
	}
	checkPixels(t, img, 2*DPI, int(1.5*DPI))
}
