package variants_test

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// twoLayers are the IWAE paper's two-stochastic-layer MNIST model.
var twoLayers = map[string]any{"latent_dim": 100, "upper_latent_dims": "50", "upper_hidden": "100,100"}

// TestIWAEK1IsTheELBO checks that the bound at k = 1 is the one-sample ELBO:
// term by term on one batch (bound = recon + kl), and in expectation against
// the VAE family's negative ELBO (analytic KL) with the same weights, whose
// KL is far from 0.
func TestIWAEK1IsTheELBO(t *testing.T) {
	for _, params := range []map[string]any{{"k": 1}, with(twoLayers, "k", 1)} {
		got := lossOnBatch(t, "iwae", params, 1, 64)
		if math.Abs(got["bound"]-got["nelbo"]) > 1e-4*got["nelbo"] {
			t.Errorf("%v: bound %.4f != recon + kl = %.4f at k = 1", params, got["bound"], got["nelbo"])
		}
		if got["total"] != got["bound"] {
			t.Errorf("%v: the total %.4f is not the bound %.4f", params, got["total"], got["bound"])
		}
	}

	// He-normal weights put the untrained posterior means far from 0 (a KL of
	// tens of nats), so a missing or mis-signed KL part would show.
	params := map[string]any{"k": 1, "init": "he"}
	iwModel, _, err := variants.New("iwae", params, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(2); err != nil {
		t.Fatal(err)
	}
	vaeModel, _, err := variants.New("vae", map[string]any{"latent_dim": 50, "hidden": "200,200", "activation": "tanh", "init": "he"}, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	// 32 images, each repeated 128 times: per-row values are independent draws.
	const images, reps = 32, 128
	x, y := mnistBatch(t, images)
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		x = graph.Reshape(graph.BroadcastToDims(graph.InsertAxes(x, 0), reps, images, 28, 28, 1), reps*images, 28, 28, 1)
		b := vae.Batch{X: x}
		iw := iwModel.(vae.LikelihoodEstimator).LogLikelihood(scope.At("model"), b, 1)
		vl := vaeModel.Loss(scope.At("model"), b)
		return []*graph.Node{graph.Neg(iw), vl.NELBO, graph.ReduceAllMean(vl.Term("kl").Value)}
	}, x, y)
	if err != nil {
		t.Fatal(err)
	}
	mean := func(v []float32) (m, se float64) {
		f := make([]float64, len(v))
		for i, x := range v {
			f[i] = float64(x)
		}
		m, std := stat.MeanStdDev(f, nil)
		return m, stat.StdErr(std, float64(len(f)))
	}
	iw, iwSE := mean(tensors.MustCopyFlatData[float32](outs[0]))
	nelbo, nelboSE := mean(tensors.MustCopyFlatData[float32](outs[1]))
	kl := float64(tensors.ToScalar[float32](outs[2]))
	if kl < 5 {
		t.Fatalf("the model's KL is %.2f nats: too small for the check to tell a missing KL", kl)
	}
	if tol := 4 * math.Hypot(iwSE, nelboSE); math.Abs(iw-nelbo) > tol {
		t.Errorf("−IWAE(k=1) = %.3f ± %.3f, VAE NELBO = %.3f ± %.3f: differ by more than %.3f", iw, iwSE, nelbo, nelboSE, tol)
	}
	t.Logf("−IWAE(k=1) = %.3f ± %.3f, VAE NELBO (analytic KL %.2f) = %.3f ± %.3f", iw, iwSE, kl, nelbo, nelboSE)
}

// TestIWAEBoundRisesWithK checks Burda et al.'s Theorem 1 on a briefly
// trained model, one layer and two: L1 < L5 < L50 over 500 images.
func TestIWAEBoundRisesWithK(t *testing.T) {
	for _, params := range []map[string]any{{"k": 5}, with(twoLayers, "k", 5)} {
		res, db := trainBriefly(t, "iwae", params)
		tr, err := experiments.Load(db, res.RunID)
		if err != nil {
			t.Fatal(err)
		}
		x, y := mnistBatch(t, 500)
		var bounds []float64
		for _, k := range []int{1, 5, 50} {
			out, err := model.CallOnce(tr.Backend, tr.Store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
				scope.SetTraining(x.Graph(), false)
				est := tr.Model.(vae.LikelihoodEstimator)
				return graph.ReduceAllMean(est.LogLikelihood(scope.At("model"), vae.Batch{X: x, Labels: y}, k))
			}, x, y)
			if err != nil {
				t.Fatal(err)
			}
			bounds = append(bounds, float64(tensors.ToScalar[float32](out)))
		}
		t.Logf("%v: L1 %.3f, L5 %.3f, L50 %.3f", params, bounds[0], bounds[1], bounds[2])
		if !(bounds[0] < bounds[1] && bounds[1] < bounds[2]) {
			t.Errorf("%v: bounds %v do not rise with k = 1, 5, 50", params, bounds)
		}
	}
}

// with returns a copy of params with name set to value.
func with(params map[string]any, name string, value any) map[string]any {
	out := map[string]any{name: value}
	for k, v := range params {
		if k != name {
			out[k] = v
		}
	}
	return out
}
