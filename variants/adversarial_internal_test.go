package variants

import (
	"math"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestDropout checks the GAN discriminator's dropout: in training it zeroes
// a fraction rate of the values and scales the others by 1/(1 − rate), so
// the mean is kept; outside training it is the identity.
func TestDropout(t *testing.T) {
	const n, rate = 20000, 0.3
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	for _, training := range []bool{true, false} {
		store := model.NewStore()
		_ = store.SetRNGStateFromSeed(4)
		out, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.SetTraining(x.Graph(), training)
			return dropout(scope, x, rate)
		}, tensors.FromFlatDataAndDimensions(ones, n))
		if err != nil {
			t.Fatal(err)
		}
		var zeros, kept int
		var sum float64
		for _, v := range tensors.MustCopyFlatData[float32](out) {
			switch {
			case v == 0:
				zeros++
			case math.Abs(float64(v)-1/(1-rate)) < 1e-6:
				kept++
			case !training && v == 1:
				kept++
			default:
				t.Fatalf("training=%v: value %v is neither 0 nor 1/(1 − rate)", training, v)
			}
			sum += float64(v)
		}
		if !training {
			if zeros != 0 {
				t.Errorf("outside training %d values were dropped", zeros)
			}
			continue
		}
		if f := float64(zeros) / n; math.Abs(f-rate) > 0.015 {
			t.Errorf("dropped fraction %.4f, want %.2f", f, rate)
		}
		if m := sum / n; math.Abs(m-1) > 0.03 {
			t.Errorf("mean after dropout %.4f, want ≈ 1", m)
		}
	}
}
