package variants

import (
	"math"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// bnInput is a fixed [2, 3, 2, 4] float64 input whose channels have
// different means and scales.
func bnInput() (vals []float64, dims []int) {
	dims = []int{2, 3, 2, 4}
	vals = make([]float64, 2*3*2*4)
	for i := range vals {
		c := i % 4
		vals[i] = float64(c)*1.5 + float64(c+1)*math.Sin(float64(i)*0.7)
	}
	return vals, dims
}

// TestBatchNormTraining checks dcgan's batch norm in a training graph: each
// channel comes out with mean 0 and (biased) variance 1 at the initial
// scale and offset; the moving averages move by the momentum towards the
// batch's mean and unbiased variance; and the gradient, which flows
// through the batch statistics, matches central finite differences along
// random directions (float64).
func TestBatchNormTraining(t *testing.T) {
	m := &DCGAN{cfg: DCGANConfig{Momentum: 0.1}}
	vals, dims := bnInput()
	n := dims[0] * dims[1] * dims[2]
	readout := make([]float64, len(vals))
	for i := range readout {
		readout[i] = math.Cos(float64(i) * 1.3)
	}
	const h = 1e-6
	dirs := [][]float64{make([]float64, len(vals)), make([]float64, len(vals))}
	for k, d := range dirs {
		for i := range d {
			d[i] = math.Sin(float64(i*(k+2)) + 0.3)
		}
	}
	// One call: the normalized values and the moving averages after it.
	store := model.NewStore()
	yT, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		scope.SetTraining(x.Graph(), true)
		return m.batchNorm(scope.At("bn"), x, true)
	}, tensors.FromFlatDataAndDimensions(vals, dims...))
	if err != nil {
		t.Fatal(err)
	}
	runMean, runVar := store.GetVariable("/bn/mean"), store.GetVariable("/bn/variance")
	// The gradient and the loss at x ± h·d, on a fresh store.
	outs, err := model.CallOnceN(gobackend.GetBackend(), model.NewStore(), func(scope *model.Scope, x *graph.Node) []*graph.Node {
		g := x.Graph()
		scope.SetTraining(g, true)
		// A nonlinear readout of the normalized values, so the gradient
		// depends on how each input moves the statistics.
		loss := func(x *graph.Node) *graph.Node {
			y := m.batchNorm(scope.At("bn"), x, true)
			return graph.ReduceAllSum(graph.Mul(graph.Tanh(y), graph.Const(g, tensors.FromFlatDataAndDimensions(readout, dims...))))
		}
		res := []*graph.Node{graph.Gradient(loss(x), x)[0]}
		for _, d := range dirs {
			for _, sign := range []float64{h, -h} {
				dx := graph.MulScalar(graph.Const(g, tensors.FromFlatDataAndDimensions(d, dims...)), sign)
				res = append(res, loss(graph.Add(x, dx)))
			}
		}
		return res
	}, tensors.FromFlatDataAndDimensions(vals, dims...))
	if err != nil {
		t.Fatal(err)
	}
	y := tensors.MustCopyFlatData[float64](yT)
	for c := range 4 {
		var mean, meanSq, xMean, xSq float64
		for i := c; i < len(y); i += 4 {
			mean += y[i] / float64(n)
			meanSq += y[i] * y[i] / float64(n)
			xMean += vals[i] / float64(n)
			xSq += vals[i] * vals[i] / float64(n)
		}
		if math.Abs(mean) > 1e-9 || math.Abs(meanSq-1) > 1e-3 { // eps = 1e-5 shrinks the variance slightly
			t.Errorf("channel %d: normalized mean %g, variance %g; want 0 and 1", c, mean, meanSq)
		}
		unbiased := (xSq - xMean*xMean) * float64(n) / float64(n-1)
		gotMean := tensors.MustCopyFlatData[float64](runMean.MustValue())[c]
		gotVar := tensors.MustCopyFlatData[float64](runVar.MustValue())[c]
		if math.Abs(gotMean-0.1*xMean) > 1e-9 || math.Abs(gotVar-(0.9+0.1*unbiased)) > 1e-9 {
			t.Errorf("channel %d: moving mean %g, variance %g; want %g and %g", c, gotMean, gotVar, 0.1*xMean, 0.9+0.1*unbiased)
		}
	}
	grad := tensors.MustCopyFlatData[float64](outs[0])
	for k, d := range dirs {
		var ad float64
		for i := range d {
			ad += grad[i] * d[i]
		}
		plus := tensors.ToScalar[float64](outs[1+2*k])
		minus := tensors.ToScalar[float64](outs[2+2*k])
		fd := (plus - minus) / (2 * h)
		if math.Abs(ad-fd) > 1e-5*math.Max(1, math.Abs(fd)) {
			t.Errorf("direction %d: autodiff %.9g, finite differences %.9g", k, ad, fd)
		}
	}
}

// TestBatchNormEvaluation checks that outside training dcgan's batch norm
// normalizes with the moving averages (so each example's output is its
// own) and leaves them unchanged.
func TestBatchNormEvaluation(t *testing.T) {
	m := &DCGAN{cfg: DCGANConfig{Momentum: 0.1}}
	vals, dims := bnInput()
	store := model.NewStore()
	mean, variance := []float64{1, -2, 0, 3}, []float64{4, 0.25, 1, 9}
	for name, v := range map[string][]float64{"mean": mean, "variance": variance} {
		if _, err := store.RootScope().At("bn").CreateVariable(name, tensors.FromFlatDataAndDimensions(v, 4)); err != nil {
			t.Fatal(err)
		}
	}
	out, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		scope.SetTraining(x.Graph(), false)
		return m.batchNorm(scope.At("bn"), x, true)
	}, tensors.FromFlatDataAndDimensions(vals, dims...))
	if err != nil {
		t.Fatal(err)
	}
	y := tensors.MustCopyFlatData[float64](out)
	for i, v := range vals {
		c := i % 4
		want := (v - mean[c]) / math.Sqrt(variance[c]+1e-5)
		if math.Abs(y[i]-want) > 1e-9 {
			t.Fatalf("value %d (channel %d): %g, want %g", i, c, y[i], want)
		}
	}
	for name, want := range map[string][]float64{"mean": mean, "variance": variance} {
		got := tensors.MustCopyFlatData[float64](store.GetVariable("/bn/" + name).MustValue())
		for c := range want {
			if got[c] != want[c] {
				t.Errorf("moving %s changed outside training: %v, was %v", name, got, want)
				break
			}
		}
	}
}

// TestBatchNormWithoutMovingAverages checks the discriminator's batch norm:
// outside training too it normalizes with the batch's own statistics, and
// it keeps no moving averages.
func TestBatchNormWithoutMovingAverages(t *testing.T) {
	m := &DCGAN{cfg: DCGANConfig{Momentum: 0.1}}
	vals, dims := bnInput()
	n := dims[0] * dims[1] * dims[2]
	for _, training := range []bool{false, true} {
		store := model.NewStore()
		out, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.SetTraining(x.Graph(), training)
			return m.batchNorm(scope.At("bn"), x, false)
		}, tensors.FromFlatDataAndDimensions(vals, dims...))
		if err != nil {
			t.Fatal(err)
		}
		y := tensors.MustCopyFlatData[float64](out)
		for c := range 4 {
			var mean, meanSq float64
			for i := c; i < len(y); i += 4 {
				mean += y[i] / float64(n)
				meanSq += y[i] * y[i] / float64(n)
			}
			if math.Abs(mean) > 1e-9 || math.Abs(meanSq-1) > 1e-3 {
				t.Errorf("training=%v channel %d: mean %g, variance %g; want 0 and 1", training, c, mean, meanSq)
			}
		}
		if store.GetVariable("/bn/mean") != nil || store.GetVariable("/bn/variance") != nil {
			t.Errorf("training=%v: moving averages created", training)
		}
	}
}
