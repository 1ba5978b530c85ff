package experiments

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/iwae"
	"github.com/vaexp/vaexp/vae"
)

// TestFusedLikelihoodMatchesGraph checks the fused estimate against the
// family's own graph (LogLikelihood) on briefly trained IWAE-paper models,
// one stochastic layer and two:
// on the same 120 binarized test images with k = 200, the two estimates
// (independent samples) differ by no more than their Monte-Carlo error, a
// few hundredths of a nat. (The fused arithmetic itself, tanh and relu, is
// checked sample by sample against float64 in experiments/iwae.)
func TestFusedLikelihoodMatchesGraph(t *testing.T) {
	if !iwae.Accelerated() {
		t.Skip("no fused path on this machine or build")
	}
	for _, c := range []struct {
		family string
		params map[string]any
	}{{"iwae", map[string]any{"k": 1}}, {"iwae", map[string]any{"k": 1, "latent_dim": 100, "upper_latent_dims": "50", "upper_hidden": "100,100"}}} {
		spec := tinySpec(200)
		spec.Family, spec.Params = c.family, c.params
		spec.Data.Binarize = "dynamic"
		db := openDB(t)
		tr, _ := trainAndLoad(t, db, spec)
		set, err := tr.dataSet("test", 120)
		if err != nil {
			t.Fatal(err)
		}
		const k, bs = 200, 40
		x, y := set.examples(bs, "iwae-test")
		e := newEvaluator(context.Background(), tr.Backend, tr.Store, tr.Model)
		dense, fast, ok := e.iwaeLayers()
		if !ok {
			t.Fatalf("%s: no fused path", c.family)
		}
		fused, err := e.fusedEstimates(fast, dense, set, x, y, k, "iwae-test")
		if err != nil {
			t.Fatal(err)
		}
		size := set.shape.Size()
		var diffs []float64
		for start := 0; start < len(y); start += bs {
			out, err := model.CallOnce(tr.Backend, tr.Store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
				scope.SetTraining(x.Graph(), false)
				return fast.LogLikelihood(scope.At(modelScope), vae.Batch{X: x, Labels: y}, k)
			}, tensors.FromFlatDataAndDimensions(x[start*size:(start+bs)*size], set.shape.BatchDims(bs)...),
				tensors.FromFlatDataAndDimensions(y[start:start+bs], bs))
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range tensors.MustCopyFlatData[float32](out) {
				diffs = append(diffs, fused[start+i]-float64(v))
			}
		}
		mean, se := meanSE(diffs)
		t.Logf("%s %v: mean fused estimate %.3f; fused − graph = %.4f ± %.4f nats", c.family, c.params, stat.Mean(fused, nil), mean, se)
		if se > 0.08 {
			t.Errorf("%s: Monte-Carlo error %.3f nats is too large for the comparison to mean anything", c.family, se)
		}
		if math.Abs(mean) > 4*se+1e-3 {
			t.Errorf("%s: fused − graph = %.4f ± %.4f nats: the paths disagree", c.family, mean, se)
		}
	}
}

// meanSE is the mean of v and its standard error.
func meanSE(v []float64) (mean, se float64) {
	mean, std := stat.MeanStdDev(v, nil)
	return mean, stat.StdErr(std, float64(len(v)))
}
