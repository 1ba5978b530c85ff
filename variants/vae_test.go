package variants_test

import (
	"math"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

func TestVAETermsFinite(t *testing.T) {
	got := lossOnBatch(t, "vae", nil, 1, 32)
	if math.Abs(got["total"]-(got["recon"]+got["kl"])) > 1e-3*got["total"] {
		t.Errorf("total %.4f != recon %.4f + kl %.4f", got["total"], got["recon"], got["kl"])
	}
	// The NELBO (recon + KL per example, then averaged) and the total (each
	// term averaged, then summed) are equal for β = 1 in exact arithmetic only.
	requireSame(t, "nelbo for β = 1", got["nelbo"], got["total"])
	// Untrained with PyTorch's init, recon is near 784·log 2 ≈ 543 and KL near 0.
	if got["recon"] < 400 || got["recon"] > 700 || got["kl"] < 0 || got["kl"] > 5 {
		t.Errorf("untrained terms out of range: %v", got)
	}
}

func TestVAETrainingLossFalls(t *testing.T) {
	res, db := trainBriefly(t, "vae", nil)
	requireLossFalls(t, db, res.RunID, "train/loss", 100)
}

func TestUnknownFamilyAndHyperparameter(t *testing.T) {
	if _, _, err := variants.New("nope", nil, mnistData); err == nil {
		t.Fatal("unknown family accepted")
	}
	for _, bad := range []map[string]any{
		{"latent_dim": "0"}, {"latent_dim": "x"}, {"hidden": "400,-1"}, {"init": "xavier"}, {"likelihood": "poisson"}, {"nope": 1},
	} {
		if _, _, err := variants.New("vae", bad, mnistData); err == nil {
			t.Errorf("params %v accepted", bad)
		}
	}
}

func TestDescribeListsDefaults(t *testing.T) {
	f, err := variants.Get("vae")
	if err != nil {
		t.Fatal(err)
	}
	ps := variants.Describe(f.NewConfig())
	found := map[string]string{}
	for _, p := range ps {
		found[p.Name] = p.Default
		if p.Help == "" || p.Range == "" {
			t.Errorf("param %s lacks help or range", p.Name)
		}
	}
	if found["latent_dim"] != "20" || found["hidden"] != "400" || found["init"] != "pytorch" {
		t.Errorf("defaults: %v", found)
	}
}

// TestIWAEBound checks the importance-weighted estimate on a trained-shape
// model: with k=1 it matches the negative ELBO in expectation, and it grows
// with k (Burda et al. 2015, Theorem 1).
func TestIWAEBound(t *testing.T) {
	k1 := iwaeOnBatch(t, 1, 5)
	k50 := iwaeOnBatch(t, 50, 5)
	nelbo := lossOnBatch(t, "vae", nil, 5, 256)["nelbo"]
	if math.Abs(-k1-nelbo) > 0.01*nelbo {
		t.Errorf("IWAE k=1 = %.3f, −NELBO = %.3f: should agree within 1%%", k1, -nelbo)
	}
	if !(k50 > k1) {
		t.Errorf("IWAE k=50 (%.3f) not above k=1 (%.3f)", k50, k1)
	}
}

// iwaeOnBatch is the mean k-sample IWAE log-likelihood estimate of an
// untrained VAE (seed fixes the weights) on the first 256 MNIST images.
func iwaeOnBatch(t *testing.T, k int, seed int64) float64 {
	t.Helper()
	m, _, err := variants.New("vae", nil, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		t.Fatal(err)
	}
	x, y := mnistBatch(t, 256)
	out, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		est := m.(vae.LikelihoodEstimator)
		return graph.ReduceAllMean(est.LogLikelihood(scope.At("model"), vae.Batch{X: x, Labels: y}, k))
	}, x, y)
	if err != nil {
		t.Fatal(err)
	}
	return float64(tensors.ToScalar[float32](out))
}
