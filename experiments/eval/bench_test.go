package eval

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// BenchmarkClassifierOutputs times the classifier's features and class
// probabilities for MNIST's 10000 test images (one op = 10000 images):
//
//	go test -run xxx -bench ClassifierOutputs -benchtime 3x ./experiments/eval/
func BenchmarkClassifierOutputs(b *testing.B) {
	c := testClassifier(b)
	images, _, err := MNISTImages("test", 0)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.Outputs(images[:outputBatch]); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := c.Outputs(images); err != nil {
			b.Fatal(err)
		}
	}
}

// randomFeatures returns n rows of FeatureDim correlated features.
func randomFeatures(n int, seed uint64) *mat.Dense {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := mat.NewDense(n, FeatureDim, nil)
	for i := range n {
		shared := rng.NormFloat64()
		for j := range FeatureDim {
			x.Set(i, j, max(0, shared+rng.NormFloat64()))
		}
	}
	return x
}

// BenchmarkFID times FID from features: fitting the Gaussians of two sets of
// 10000×128 features and their Fréchet distance (what one FID costs after
// the classifier has run):
//
//	go test -run xxx -bench 'FID|FrechetDistance|PrecisionRecall' ./experiments/eval/
func BenchmarkFID(b *testing.B) {
	x, y := randomFeatures(10000, 1), randomFeatures(10000, 2)
	for b.Loop() {
		if _, err := FrechetFeatures(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFrechetDistance times the distance alone between two fitted
// 128-dimensional Gaussians (the matrix square roots).
func BenchmarkFrechetDistance(b *testing.B) {
	gx, _ := FitGaussian(randomFeatures(10000, 1))
	gy, _ := FitGaussian(randomFeatures(10000, 2))
	for b.Loop() {
		if _, err := FrechetDistance(gx, gy); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrecisionRecall times precision and recall (k = 3) between two
// sets of 10000×128 features.
func BenchmarkPrecisionRecall(b *testing.B) {
	x, y := randomFeatures(10000, 1), randomFeatures(10000, 2)
	for b.Loop() {
		if _, _, err := PrecisionRecall(x, y, 3); err != nil {
			b.Fatal(err)
		}
	}
}
