package plots

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

func TestBands(t *testing.T) {
	band := func(spread float64) Band {
		b := Band{Name: "mean ± std"}
		for i := range 50 {
			x := float64(i)
			m := 10 - x/10
			b.X, b.Mean = append(b.X, x), append(b.Mean, m)
			b.Lo, b.Hi = append(b.Lo, m-spread), append(b.Hi, m+spread)
		}
		return b
	}
	draw := func(bs ...Band) []byte {
		p, err := Bands(bs, CurveOptions{Title: "bands", XLabel: "step"})
		if err != nil {
			t.Fatal(err)
		}
		data, err := EncodeFigure(p, ".png", 6, 4)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		checkPixels(t, img, 6*DPI, 4*DPI)
		return data
	}
	// The y-axis spans the wide band either way (a flat line far below fixes the range),
	// so the shaded area grows with the spread.
	floor := Band{Name: "floor", X: []float64{0, 49}, Mean: []float64{0, 0}, Lo: []float64{0, 0}, Hi: []float64{0, 0}}
	narrow, _, nWidth := bandPixels(t, draw(band(0.2), floor))
	wide, _, wWidth := bandPixels(t, draw(band(1), floor))
	if narrow < 500 || wide < 3*narrow {
		t.Errorf("band of %d pixels for a spread of 0.2, %d for 1 (want about 5×)", narrow, wide)
	}
	if nWidth < 6*DPI/2 || wWidth < 6*DPI/2 {
		t.Errorf("bands span %d and %d pixel columns, want most of the %d-pixel width", nWidth, wWidth, 6*DPI)
	}
	// A missing Hi in the middle cuts the shading in two; the line goes on.
	gap := band(1)
	for i := 20; i < 30; i++ {
		gap.Hi[i] = math.NaN()
	}
	cut, _, cWidth := bandPixels(t, draw(gap, floor))
	if cut >= wide || cWidth > wWidth*3/5 {
		t.Errorf("with Hi missing over a fifth of the steps: %d shaded pixels (whole: %d), longest run %d columns (whole: %d)", cut, wide, cWidth, wWidth)
	}

	bad := band(1)
	bad.Lo[3] = bad.Hi[3] + 1
	for name, c := range map[string]struct {
		bands []Band
		opt   CurveOptions
		want  string
	}{
		"none":     {nil, CurveOptions{}, "at least one band"},
		"empty":    {[]Band{{Name: "e"}}, CurveOptions{}, `band "e" is empty`},
		"lengths":  {[]Band{{Name: "l", X: []float64{0, 1}, Mean: []float64{0}, Lo: []float64{0, 1}, Hi: []float64{0, 1}}}, CurveOptions{}, "pair up"},
		"lo above": {[]Band{bad}, CurveOptions{}, "at X = 3 has Lo 11.7 above Hi 10.7"},
		"smooth":   {[]Band{band(1)}, CurveOptions{Smooth: 5}, "does not smooth"},
	} {
		_, err := Bands(c.bands, c.opt)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		wantErr(t, err, c.want)
	}
	if _, err := Bands([]Band{band(1)}, CurveOptions{LogY: true, SkipTransient: 0.1}); err != nil {
		t.Errorf("log axis with SkipTransient: %v", err)
	}
}
