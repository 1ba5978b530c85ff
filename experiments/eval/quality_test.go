package eval

import (
	"math/rand/v2"
	"testing"
)

// noisy returns images with N(0, σ²) noise added to every pixel, clipped to [0, 1].
func noisy(images [][]float32, sigma float64, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float32, len(images))
	for i, im := range images {
		o := make([]float32, len(im))
		for j, v := range im {
			o[j] = min(max(v+float32(sigma*rng.NormFloat64()), 0), 1)
		}
		out[i] = o
	}
	return out
}

// blurred returns images convolved with a (2r+1)×(2r+1) box filter (zero outside).
func blurred(images [][]float32, r int) [][]float32 {
	out := make([][]float32, len(images))
	for i, im := range images {
		o := make([]float32, len(im))
		for y := range imageSide {
			for x := range imageSide {
				var s float32
				for dy := -r; dy <= r; dy++ {
					for dx := -r; dx <= r; dx++ {
						if yy, xx := y+dy, x+dx; yy >= 0 && yy < imageSide && xx >= 0 && xx < imageSide {
							s += im[yy*imageSide+xx]
						}
					}
				}
				o[y*imageSide+x] = s / float32((2*r+1)*(2*r+1))
			}
		}
		out[i] = o
	}
	return out
}

// TestFIDOnMNIST checks FID-LeNet on real images: two halves of the test set
// score near zero, and the score rises with every step of added noise and of
// blur. It uses the real (cached) classifier.
func TestFIDOnMNIST(t *testing.T) {
	c := testClassifier(t)
	images, _, err := MNISTImages("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	first, second := images[:5000], images[5000:]
	ref, err := referenceOf(c, "test[:5000]", first)
	if err != nil {
		t.Fatal(err)
	}
	fid := func(imgs [][]float32) float64 {
		t.Helper()
		vals, err := SampleQuality(c, ref, imgs, []string{"fid"}, DefaultPRK)
		if err != nil {
			t.Fatal(err)
		}
		if vals[0].Version != FIDVersion || vals[0].Settings["n"] != "5000" || vals[0].Settings["classifier"] != c.Version() {
			t.Errorf("fid value %+v", vals[0])
		}
		return vals[0].Value
	}
	halves := fid(second)
	t.Logf("FID-LeNet of the two halves of the test set: %.4f", halves)
	for _, series := range []struct {
		name   string
		levels []float64
		apply  func(level float64) [][]float32
	}{
		{"gaussian noise σ", []float64{0.05, 0.1, 0.2, 0.4}, func(s float64) [][]float32 { return noisy(second, s, 1) }},
		{"box blur radius", []float64{1, 2, 3}, func(r float64) [][]float32 { return blurred(second, int(r)) }},
	} {
		prev := halves
		for _, level := range series.levels {
			got := fid(series.apply(level))
			t.Logf("%s %v: FID-LeNet %.4f", series.name, level, got)
			if got <= prev {
				t.Errorf("%s %v: FID %.4f, not above %.4f at the level before", series.name, level, got, prev)
			}
			prev = got
		}
		if first := fid(series.apply(series.levels[0])); halves > first/5 {
			t.Errorf("%s: halves of the test set score %.4f, not near zero against %.4f at the mildest level", series.name, halves, first)
		}
	}
}

// TestISAndPrecisionRecallOnMNIST: the real test set's Inception Score is near
// the ceiling of 10 (as confident and balanced as the classifier is); two halves
// of it have high precision and recall, and noise lowers precision.
func TestISAndPrecisionRecallOnMNIST(t *testing.T) {
	c := testClassifier(t)
	images, _, err := MNISTImages("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := referenceOf(c, "test[:5000]", images[:5000])
	if err != nil {
		t.Fatal(err)
	}
	is, err := InceptionScore(ref.Probs)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("IS of 5000 real test images: %.3f", is)
	if is < 9.5 || is > 10 {
		t.Errorf("IS of real images %.3f, want in [9.5, 10]", is)
	}
	pr := func(imgs [][]float32) (float64, float64) {
		vals, err := SampleQuality(c, ref, imgs, []string{"pr"}, DefaultPRK)
		if err != nil {
			t.Fatal(err)
		}
		return vals[0].Value, vals[1].Value
	}
	p, r := pr(images[5000:])
	t.Logf("precision %.3f recall %.3f between the halves", p, r)
	if p < 0.6 || r < 0.6 {
		t.Errorf("halves of the test set: precision %.3f recall %.3f, want both high", p, r)
	}
	pn, rn := pr(noisy(images[5000:], 0.4, 2))
	t.Logf("precision %.3f recall %.3f with noise σ=0.4", pn, rn)
	if pn >= p {
		t.Errorf("noise did not lower precision: %.3f → %.3f", p, pn)
	}
}
