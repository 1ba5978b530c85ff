package plots

import (
	"bytes"
	"image/png"
	"testing"
)

func TestLabeledGrid(t *testing.T) {
	imgs := make([][]float32, 6)
	for i := range imgs {
		imgs[i] = make([]float32, 4*4)
		for j := range imgs[i] {
			imgs[i][j] = float32(i) / 5
		}
	}
	p, err := LabeledGrid(imgs, 4, 4, 3, LabeledGridOptions{Title: "t", RowLabels: []string{"z0", "z1"}, ColLabels: []string{"-1", "0", "+1"}})
	if err != nil {
		t.Fatal(err)
	}
	// Two rows: z0 on top (y centre 1.5), z1 below (0.5); columns at 0.5, 1.5, 2.5.
	yt := p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max)
	if len(yt) != 2 || yt[0].Label != "z0" || yt[0].Value != 1.5 || yt[1].Value != 0.5 {
		t.Errorf("row ticks %+v", yt)
	}
	xt := p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max)
	if len(xt) != 3 || xt[2].Label != "+1" || xt[2].Value != 2.5 {
		t.Errorf("column ticks %+v", xt)
	}
	w, h := LabeledGridSize(2, 3)
	b, err := EncodeFigure(p, ".png", w, h)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := img.Bounds().Dx(), int(w*DPI); got != want {
		t.Errorf("width %d px, want %d", got, want)
	}
	if _, err := LabeledGrid(imgs, 4, 4, 3, LabeledGridOptions{RowLabels: []string{"a", "b", "c"}}); err == nil {
		t.Error("three row labels accepted for two rows")
	}
	if _, err := LabeledGrid(imgs, 5, 4, 3, LabeledGridOptions{}); err == nil {
		t.Error("images of the wrong size accepted")
	}
}
