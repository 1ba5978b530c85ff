package experiments

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/vae"
)

// ramp returns n examples of size values: example i's value j is
// ((i+j) mod 256)/255, so every pixel of the drawing can be predicted.
func ramp(n, size int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, size)
		for j := range out[i] {
			out[i][j] = float32((i+j)%256) / 255
		}
	}
	return out
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

func grey(img image.Image, x, y int) uint8 {
	return color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
}

func TestRenderExamples(t *testing.T) {
	images := data.Description{Name: "img", Shape: vae.Shape{Height: 5, Width: 4, Channels: 1}}
	seqs := data.Description{Name: "seq", Shape: vae.Shape{Frames: 3, Height: 5, Width: 4, Channels: 1}}
	rows := data.Description{Name: "rows", Shape: vae.Shape{Frames: 5, Height: 1, Width: 4, Channels: 1}}
	series := data.Description{Name: "series", Shape: vae.Shape{Frames: 30, Height: 1, Width: 1, Channels: 2}, Real: true}

	// Images: 8 per row, ×2, 1 px separators.
	img := decodePNG(t, must(t)(RenderExamples(images, ramp(10, 20), ".png")))
	if b := img.Bounds(); b.Dx() != 8*8+9 || b.Dy() != 2*10+3 {
		t.Fatalf("image grid %v", b)
	}
	if g := grey(img, 1+2*(8+1)+2*3, 1+2*4); g != uint8(2+4*4+3) { // example 2, row 4, column 3
		t.Errorf("grid pixel %d", g)
	}

	// Sequences: a strip (one row per sequence) and a GIF (one frame per frame).
	ex := ramp(2, 60)
	strip := decodePNG(t, must(t)(RenderExamples(seqs, ex, "out/strip.PNG")))
	if b := strip.Bounds(); b.Dx() != 3*8+4 || b.Dy() != 2*10+3 {
		t.Fatalf("strip %v", b)
	}
	if g := grey(strip, 1+2*(8+1)+2*1, 1+(10+1)+2*2); g != uint8(1+2*20+2*4+1) { // sequence 1, frame 2, row 2, column 1
		t.Errorf("strip pixel %d", g)
	}
	anim, err := gif.DecodeAll(bytes.NewReader(must(t)(RenderExamples(seqs, ex, ".gif"))))
	if err != nil {
		t.Fatal(err)
	}
	if len(anim.Image) != 3 {
		t.Fatalf("GIF of %d frames, want 3", len(anim.Image))
	}
	if g := grey(anim.Image[2], 1+(8+1)+2*1, 1+2*2); g != uint8(1+2*20+2*4+1) { // frame 2, sequence 1, row 2, column 1
		t.Errorf("GIF pixel %d", g)
	}

	// Rows stack into an image; the GIF reveals them one by one.
	stacked := decodePNG(t, must(t)(RenderExamples(rows, ramp(1, 20), ".png")))
	if b := stacked.Bounds(); b.Dx() != 2*4+2 || b.Dy() != 2*5+2 {
		t.Fatalf("stacked rows %v", b)
	}
	reveal, err := gif.DecodeAll(bytes.NewReader(must(t)(RenderExamples(rows, ramp(1, 20), ".gif"))))
	if err != nil {
		t.Fatal(err)
	}
	if len(reveal.Image) != 5 || grey(reveal.Image[1], 1+2*3, 1+2*1) != 4+3 || grey(reveal.Image[1], 1+2*3, 1+2*2) != 0 {
		t.Error("frame 1 of the reveal should show rows 0 and 1 only")
	}

	// Series: panels, two per row, 4.5×2.6 inches each.
	fig := decodePNG(t, must(t)(RenderExamples(series, ramp(3, 60), ".png")))
	if b := fig.Bounds(); b.Dx() != int(2*4.5*plots.DPI) || b.Dy() != int(2*2.6*plots.DPI) {
		t.Errorf("series figure %v", b)
	}
	if _, err := RenderExamples(series, ramp(1, 60), ".svg"); err != nil {
		t.Error(err)
	}

	for name, call := range map[string]func() ([]byte, error){
		"image gif":   func() ([]byte, error) { return RenderExamples(images, ramp(1, 20), ".gif") },
		"series gif":  func() ([]byte, error) { return RenderExamples(series, ramp(1, 60), "x.gif") },
		"no examples": func() ([]byte, error) { return RenderExamples(images, nil, ".png") },
		"wrong size":  func() ([]byte, error) { return RenderExamples(images, ramp(1, 19), ".png") },
	} {
		if _, err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, err = RenderExamples(images, ramp(1, 20), "grid.gif")
	if err == nil || !strings.Contains(err.Error(), ".png") {
		t.Errorf("the error should name the format to use: %v", err)
	}
}

func must(t *testing.T) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// TestPreviewEveryDataset previews every registered data set in each format
// it offers. Set PREVIEW_DIR to keep the files and look at them (a GIF's
// middle frame is also written as a PNG).
func TestPreviewEveryDataset(t *testing.T) {
	dir := os.Getenv("PREVIEW_DIR")
	for _, ds := range data.All() {
		d := ds.Describe()
		for _, ext := range strings.Fields(exampleKind(d).formats()) {
			if ext == ".pdf" || ext == ".svg" {
				continue // the PNG draws the same figure
			}
			b, err := Preview(d.Name, data.LoadOptions{Seed: 1}, 0, ext)
			if err != nil {
				t.Fatalf("%s %s: %v", d.Name, ext, err)
			}
			if ext == ".gif" {
				g, err := gif.DecodeAll(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("%s: %v", d.Name, err)
				}
				if len(g.Image) != d.Shape.Frames {
					t.Errorf("%s: GIF of %d frames, want %d", d.Name, len(g.Image), d.Shape.Frames)
				}
				if dir != "" {
					if err := plots.SaveImage(g.Image[len(g.Image)/2], filepath.Join(dir, d.Name+"-gif-frame.png")); err != nil {
						t.Fatal(err)
					}
				}
			} else {
				decodePNG(t, b)
			}
			if dir != "" {
				if err := os.WriteFile(filepath.Join(dir, d.Name+ext), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if _, err := Preview("nope", data.LoadOptions{}, 0, ".png"); err == nil {
		t.Error("an unknown data set was previewed")
	}
}
