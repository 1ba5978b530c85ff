package eval

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/vaexp/vaexp/experiments/data"
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

// randomHalves splits MNIST's test set into two random halves. (Its first and
// last 5000 images are not alike: they come from different writers, the
// first from NIST's SD-3, the second mostly from SD-1, and their FID-LeNet is
// far from zero.)
func randomHalves(t testing.TB) (first, second [][]float32) {
	t.Helper()
	images, _, err := MNISTImages("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range data.Permutation(len(images), 1, 0) {
		if k < len(images)/2 {
			first = append(first, images[i])
		} else {
			second = append(second, images[i])
		}
	}
	return first, second
}

// TestFIDOnMNIST checks FID-LeNet on real images: two random halves of the
// test set score near zero, and the score rises with every step of added
// noise and of blur. It uses the real (cached) classifier.
func TestFIDOnMNIST(t *testing.T) {
	c := testClassifier(t)
	first, second := randomHalves(t)
	ref, err := referenceOf(c, "test-half", first)
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
	total := mat.Trace(ref.gauss.Cov)
	t.Logf("FID-LeNet of two random halves of the test set: %.4f (total feature variance tr Σ = %.1f)", halves, total)
	// Near zero on the features' own scale: a FID is a squared distance,
	// and the halves' (the estimator's bias at n = 5000, d = 128) is a small
	// fraction of the features' total variance.
	if halves > 0.005*total {
		t.Errorf("halves of the test set: FID %.4f, not near zero against tr Σ = %.1f", halves, total)
	}
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
	}
}

// TestISAndPrecisionRecallOnMNIST: the real test set's Inception Score is near
// the ceiling of 10 (as confident and balanced as the classifier is); two halves
// of it have high precision and recall, and noise lowers precision.
func TestISAndPrecisionRecallOnMNIST(t *testing.T) {
	c := testClassifier(t)
	first, second := randomHalves(t)
	ref, err := referenceOf(c, "test-half", first)
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
	p, r := pr(second)
	t.Logf("precision %.3f recall %.3f between the halves", p, r)
	if p < 0.6 || r < 0.6 {
		t.Errorf("halves of the test set: precision %.3f recall %.3f, want both high", p, r)
	}
	pn, rn := pr(noisy(second, 0.4, 2))
	t.Logf("precision %.3f recall %.3f with noise σ=0.4", pn, rn)
	if pn >= p {
		t.Errorf("noise did not lower precision: %.3f → %.3f", p, pn)
	}
}
