package variants_test

import (
	"math"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

func TestAEOutputs(t *testing.T) {
	requireOutputs(t, "ae", nil, 16)
	requireOutputs(t, "ae", map[string]any{"code_cov": "diag"}, 16)
}

func TestAETermsFinite(t *testing.T) {
	got := lossOnBatch(t, "ae", nil, 1, 32)
	if _, ok := got["nelbo"]; ok {
		t.Error("the AE defines no ELBO, but its loss has a NELBO")
	}
	if len(got) != 2 {
		t.Errorf("want recon and total alone; got %v", got)
	}
	requireSame(t, "total (recon alone)", got["total"], got["recon"])
	// Untrained with PyTorch's init, like the VAE: near 784·log 2 ≈ 543 nats.
	if got["recon"] < 400 || got["recon"] > 700 {
		t.Errorf("untrained recon %.2f out of range", got["recon"])
	}
}

// TestAECodeGaussian checks the fitted Gaussian against known values: after
// one training step on a batch, its mean and covariance are exactly those of
// the batch's codes (the debiased momentum is 0 at the first update); after
// a second step on another batch they are the average of the two batches'
// statistics (momentum min(0.99, 1 − 1/2) = ½); an evaluation step changes
// nothing; and L·Lᵀ reproduces the covariance (full) or its diagonal (diag).
func TestAECodeGaussian(t *testing.T) {
	for _, cov := range []string{"full", "diag"} {
		t.Run(cov, func(t *testing.T) {
			const latent, n = 6, 128
			m, _, err := variants.New("ae", map[string]any{"latent_dim": latent, "hidden": "64", "code_cov": cov}, mnistData)
			if err != nil {
				t.Fatal(err)
			}
			ae := m.(*variants.AE)
			store := model.NewStore()
			if err := store.SetRNGStateFromSeed(3); err != nil {
				t.Fatal(err)
			}
			backend := gobackend.GetBackend()
			step := func(training bool) *model.Exec {
				e, err := model.NewExec(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
					scope.SetTraining(x.Graph(), training)
					ms := scope.At("model")
					ae.Loss(ms, vae.Batch{X: x})
					return ae.Encode(ms, vae.Batch{X: x})
				})
				if err != nil {
					t.Fatal(err)
				}
				return e
			}
			fitted := func() (mean, scale [][]float32) {
				outs, err := model.CallOnceN(backend, store, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
					mu, l := ae.CodeGaussian(scope.At("model"), g)
					return []*graph.Node{graph.InsertAxes(mu, 0), l}
				})
				if err != nil {
					t.Fatal(err)
				}
				return outs[0].Value().([][]float32), outs[1].Value().([][]float32)
			}
			x, _ := mnistBatch(t, 2*n)
			flat := tensors.MustCopyFlatData[float32](x)
			half := func(i int) *tensors.Tensor {
				return tensors.FromFlatDataAndDimensions(flat[i*n*784:(i+1)*n*784], n, 28, 28, 1)
			}
			codes := func(e *model.Exec, xs *tensors.Tensor) [][]float32 {
				out, err := e.Call(xs)
				if err != nil {
					t.Fatal(err)
				}
				return out[0].Value().([][]float32)
			}
			train, eval := step(true), step(false)
			z1 := codes(train, half(0))
			mean1, cov1 := moments(z1)
			checkFit := func(when string, wantMean []float64, wantCov [][]float64) {
				mu, l := fitted()
				for i := 0; i < latent; i++ {
					if d := math.Abs(float64(mu[0][i]) - wantMean[i]); d > 1e-4*(1+math.Abs(wantMean[i])) {
						t.Errorf("%s: mean[%d] = %.6f, want %.6f", when, i, mu[0][i], wantMean[i])
					}
					for j := 0; j < latent; j++ {
						if j > i && l[i][j] != 0 {
							t.Errorf("%s: scale[%d][%d] = %g above the diagonal", when, i, j, l[i][j])
						}
						llt := 0.0
						for k := 0; k < latent; k++ {
							llt += float64(l[i][k]) * float64(l[j][k])
						}
						want := wantCov[i][j]
						if cov == "diag" && i != j {
							want = 0
						}
						scale := math.Sqrt(wantCov[i][i] * wantCov[j][j])
						if math.Abs(llt-want) > 2e-3*scale+1e-6 {
							t.Errorf("%s: (L·Lᵀ)[%d][%d] = %.6f, want %.6f", when, i, j, llt, want)
						}
					}
				}
			}
			checkFit("after one step", mean1, cov1)

			z2 := codes(train, half(1))
			codes(eval, half(0)) // must not move the statistics
			mean2, cov2 := moments(z2)
			mean12 := make([]float64, latent)
			cov12 := make([][]float64, latent)
			for i := range mean12 {
				mean12[i] = (mean1[i] + mean2[i]) / 2
			}
			// Σ from the averaged second moments: E[zzᵀ] − μμᵀ.
			for i := range cov12 {
				cov12[i] = make([]float64, latent)
				for j := range cov12[i] {
					second := (cov1[i][j] + mean1[i]*mean1[j] + cov2[i][j] + mean2[i]*mean2[j]) / 2
					cov12[i][j] = second - mean12[i]*mean12[j]
				}
			}
			checkFit("after two steps", mean12, cov12)
		})
	}
}

// moments returns the mean and the (biased, 1/n) covariance of the rows of z.
func moments(z [][]float32) ([]float64, [][]float64) {
	d := len(z[0])
	mean := make([]float64, d)
	for _, row := range z {
		for i, v := range row {
			mean[i] += float64(v) / float64(len(z))
		}
	}
	cov := make([][]float64, d)
	for i := range cov {
		cov[i] = make([]float64, d)
		for _, row := range z {
			for j := range cov[i] {
				cov[i][j] += (float64(row[i]) - mean[i]) * (float64(row[j]) - mean[j]) / float64(len(z))
			}
		}
	}
	return mean, cov
}

// TestAETrainingAndCheckpoint trains briefly, checks the loss falls, and
// restores the run from its checkpoint: the code statistics (non-trainable
// variables) are in it, updated once per training step.
func TestAETrainingAndCheckpoint(t *testing.T) {
	res, db := trainBriefly(t, "ae", nil)
	requireLossFalls(t, db, res.RunID, "train/recon", 100)
	trained, err := experiments.Load(db, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	count := trained.Store.GetVariable("/model/code_stats/count")
	if count == nil {
		t.Fatal("no /model/code_stats/count variable in the checkpoint")
	}
	if got := tensors.ToScalar[float32](count.MustValue()); int(got) != res.Steps {
		t.Errorf("code statistics updated %v times, want once per step (%d)", got, res.Steps)
	}
	imgs, err := trained.Generate(8)
	if err != nil || len(imgs) != 8 {
		t.Fatalf("generate from the restored AE: %d images, %v", len(imgs), err)
	}
}

func TestAERejectsBadParams(t *testing.T) {
	for _, bad := range []map[string]any{
		{"code_momentum": 1}, {"code_momentum": -0.1}, {"code_cov": "lowrank"}, {"latent_dim": 0},
	} {
		if _, _, err := variants.New("ae", bad, mnistData); err == nil {
			t.Errorf("params %v accepted", bad)
		} else {
			t.Logf("%v: %v", bad, err)
		}
	}
}

// TestAELong is the family's measurement: full MNIST, the reference MLP,
// 5 epochs (VAEXP_LONG=1; VAEXP_EPOCHS overrides). test/recon compares with
// the VAE's test/recon (same likelihood, nats per example).
//
//	VAEXP_LONG=1 go test -run TestAELong -timeout 60m -v ./variants/
func TestAELong(t *testing.T) {
	trainFull(t, "ae", nil, 5, nil)
}
