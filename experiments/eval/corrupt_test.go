package eval

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// testImage is an asymmetric h×w×c image with values in (0, 1).
func testImage(h, w, c int) Image {
	im := Image{Pix: make([]float32, h*w*c), Height: h, Width: w, Channels: c}
	for i := range im.Pix {
		im.Pix[i] = float32((i*37)%101) / 101
	}
	return im
}

func TestGaussianNoise(t *testing.T) {
	// A mid-grey image: with σ = 0.1 clipping to [0, 1] is a 5σ event.
	im := Image{Pix: make([]float32, 64*64), Height: 64, Width: 64, Channels: 1}
	for i := range im.Pix {
		im.Pix[i] = 0.5
	}
	out, err := GaussianNoise(0.1).Apply(im, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	for i, v := range out {
		d := float64(v - im.Pix[i])
		sum += d
		sq += d * d
	}
	n := float64(len(out))
	mean := sum / n
	near(t, "noise mean", mean, 0, 4*0.1/math.Sqrt(n))
	near(t, "noise std", math.Sqrt(sq/n-mean*mean), 0.1, 0.005)
	// Large noise is clipped into [0, 1].
	out, _ = GaussianNoise(3).Apply(im, rand.New(rand.NewPCG(1, 2)))
	if lo, hi := slices.Min(out), slices.Max(out); lo != 0 || hi != 1 {
		t.Errorf("σ=3 noise spans [%g, %g], want clipped to [0, 1]", lo, hi)
	}
	if im.Pix[0] != 0.5 {
		t.Error("noise changed its input")
	}
}

func TestOcclusionErasesTheSquareOverTheCentreOfMass(t *testing.T) {
	// One bright 3×3 blob at rows 20-22, columns 4-6 of a 28×28 image: its
	// centre of mass is pixel (21, 5)'s centre, so the 9×9 square sits at
	// rows 17-25, columns 1-9.
	im := Image{Pix: make([]float32, 28*28), Height: 28, Width: 28, Channels: 1}
	for y := 20; y < 23; y++ {
		for x := 4; x < 7; x++ {
			im.Pix[y*28+x] = 1
		}
	}
	y0, x0, side := OcclusionSquare(im, 1.0/3)
	if y0 != 17 || x0 != 1 || side != 9 {
		t.Fatalf("square at (%d, %d) side %d, want (17, 1) side 9", y0, x0, side)
	}
	out, err := Occlusion(1.0/3).Apply(im, nil)
	if err != nil {
		t.Fatal(err)
	}
	for y := range 28 {
		for x := range 28 {
			inside := y >= 17 && y < 26 && x >= 1 && x < 10
			if inside && out[y*28+x] != 0 {
				t.Fatalf("pixel (%d, %d) inside the square is %g, want 0", y, x, out[y*28+x])
			}
			if !inside && out[y*28+x] != im.Pix[y*28+x] {
				t.Fatalf("pixel (%d, %d) outside the square changed", y, x)
			}
		}
	}
	// Near an edge the square stays inside the image.
	edge := Image{Pix: make([]float32, 28*28), Height: 28, Width: 28, Channels: 1}
	edge.Pix[0] = 1
	if y0, x0, _ := OcclusionSquare(edge, 1.0/3); y0 != 0 || x0 != 0 {
		t.Errorf("corner blob: square at (%d, %d), want (0, 0)", y0, x0)
	}
}

func TestRotation(t *testing.T) {
	for _, c := range []int{1, 3} {
		im := testImage(12, 12, c)
		rot := func(deg float64, in []float32) []float32 {
			out, err := Rotation(deg).Apply(Image{Pix: in, Height: 12, Width: 12, Channels: c}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if out := rot(0, im.Pix); !slices.Equal(out, im.Pix) {
			t.Errorf("%d channels: 0° changed the image", c)
		}
		// 90° counter-clockwise: out(y, x) = in(x, W−1−y) exactly.
		out := rot(90, im.Pix)
		for y := range 12 {
			for x := range 12 {
				for k := range c {
					if got, want := out[(y*12+x)*c+k], im.Pix[(x*12+11-y)*c+k]; math.Abs(float64(got-want)) > 1e-6 {
						t.Fatalf("%d channels: 90° pixel (%d, %d, %d) = %g, want %g", c, y, x, k, got, want)
					}
				}
			}
		}
		back := rot(90, rot(90, rot(90, out)))
		for i := range back {
			if math.Abs(float64(back[i]-im.Pix[i])) > 1e-6 {
				t.Fatalf("%d channels: four quarter turns moved value %d: %g vs %g", c, i, back[i], im.Pix[i])
			}
		}
		// 45° keeps the centre pixel area's mass roughly and loses the corners to black.
		o45 := rot(45, im.Pix)
		if o45[0] != 0 || o45[len(o45)-1] != 0 {
			t.Errorf("%d channels: 45° corners %g, %g; want black (from outside the image)", c, o45[0], o45[len(o45)-1])
		}
	}
	if _, err := Rotation(90).Apply(Image{Pix: make([]float32, 10), Height: 3, Width: 3, Channels: 1}, nil); err == nil {
		t.Error("a 10-value image accepted as 3×3")
	}
}

func TestSeparationAUROC(t *testing.T) {
	normal := []float64{1, 2, 3, 4}
	for _, c := range []struct {
		anomalous []float64
		want      float64
	}{
		{[]float64{5, 6, 7}, 1},      // every anomaly above every normal example
		{[]float64{0, -1}, 0},        // every anomaly below
		{[]float64{1, 2, 3, 4}, 0.5}, // the same scores: chance
		{[]float64{2.5}, 0.5},        // above two of four
		{[]float64{4, 5}, 0.9375},    // (3.5 + 4) / 8: one tie counts a half
	} {
		got, err := SeparationAUROC(normal, c.anomalous)
		if err != nil {
			t.Fatal(err)
		}
		near(t, "auroc", got, c.want, 1e-12)
	}
	if _, err := SeparationAUROC(nil, []float64{1}); err == nil {
		t.Error("no normal scores accepted")
	}
}
