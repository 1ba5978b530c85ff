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

func TestLadderOutputs(t *testing.T) {
	requireOutputs(t, "ladder-vae", nil, 16)
	requireOutputs(t, "ladder-vae", map[string]any{"upper_latent_dims": "16,8", "latent_dim": 20}, 16)
	requireOutputs(t, "ladder-vae", map[string]any{"arch": "conv"}, 8)
}

// TestLadderTerms checks the terms of an untrained ladder on a batch: NELBO =
// recon + Σ KL layers; with the default warm-up the KL weight is 0 at step 0,
// so the optimized total is recon alone; without warm-up the total is the
// NELBO; with free bits λ above every layer's KL each layer counts λ.
func TestLadderTerms(t *testing.T) {
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-4*math.Max(math.Abs(a), math.Abs(b)) }
	for _, c := range []struct {
		name    string
		params  map[string]any
		wantOpt func(got map[string]float64) float64 // kl_opt
	}{
		{"warm-up at step 0", nil, func(map[string]float64) float64 { return 0 }},
		{"no warm-up", map[string]any{"warmup_steps": 0}, func(g map[string]float64) float64 { return g["kl1"] + g["kl2"] }},
		{"free bits", map[string]any{"warmup_steps": 0, "free_bits": 50}, func(g map[string]float64) float64 {
			return math.Max(g["kl1"], 50) + math.Max(g["kl2"], 50)
		}},
		{"three layers", map[string]any{"warmup_steps": 0, "upper_latent_dims": "16,8"}, func(g map[string]float64) float64 {
			return g["kl1"] + g["kl2"] + g["kl3"]
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := lossOnBatch(t, "ladder-vae", c.params, 1, 32)
			sumKL := 0.0
			for i := 1; ; i++ {
				kl, ok := got["kl"+string(rune('0'+i))]
				if !ok {
					break
				}
				if kl < 0 {
					t.Errorf("kl%d = %g < 0", i, kl)
				}
				sumKL += kl
			}
			if !near(got["nelbo"], got["recon"]+sumKL) {
				t.Errorf("nelbo %.4f != recon %.4f + Σ kl %.4f", got["nelbo"], got["recon"], sumKL)
			}
			if want := c.wantOpt(got); !near(got["kl_opt"], want) && math.Abs(got["kl_opt"]-want) > 1e-6 {
				t.Errorf("kl_opt %.5f, want %.5f (%v)", got["kl_opt"], want, got)
			}
			if !near(got["total"], got["recon"]+got["kl_opt"]) {
				t.Errorf("total %.4f != recon %.4f + kl_opt %.4f", got["total"], got["recon"], got["kl_opt"])
			}
			if c.params == nil && (got["kl_weight"] != 0 || math.Abs(got["total"]-got["recon"]) > sameValueTol*got["recon"]) {
				t.Errorf("step 0 of the warm-up: kl_weight %g (want 0), total %.4f (want recon %.4f)", got["kl_weight"], got["total"], got["recon"])
			}
			if got["recon"] < 400 || got["recon"] > 700 {
				t.Errorf("untrained recon %.2f out of range", got["recon"])
			}
		})
	}
}

// TestPrecisionWeighted checks the combination against its closed form on
// hand examples: N(1, 1) and N(3, 3) give precision 1 + 1/3 = 4/3, so
// σ² = 3/4 and μ = (1·1 + 3·⅓)·¾ = 1.5; equal Gaussians halve the variance and
// keep the mean; a very precise Gaussian (σ² = e⁻³⁰) dominates without overflow.
func TestPrecisionWeighted(t *testing.T) {
	out, err := model.CallOnceN(gobackend.GetBackend(), model.NewStore(), func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		c := func(v ...float32) *graph.Node { return graph.Const(g, v) }
		q := variants.PrecisionWeighted(
			vae.Gaussian{Mean: c(1, 2, -5), LogVar: c(0, float32(math.Log(2)), -30)},
			vae.Gaussian{Mean: c(3, 2, 7), LogVar: c(float32(math.Log(3)), float32(math.Log(2)), 0)})
		return []*graph.Node{q.Mean, graph.Exp(q.LogVar), q.LogVar}
	})
	if err != nil {
		t.Fatal(err)
	}
	mean, variance, logVar := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1]), tensors.MustCopyFlatData[float32](out[2])
	wantMean, wantVar := []float64{1.5, 2, -5}, []float64{0.75, 1, 0}
	for i := range wantMean {
		if math.Abs(float64(mean[i])-wantMean[i]) > 1e-5 {
			t.Errorf("mean[%d] = %g, want %g", i, mean[i], wantMean[i])
		}
		if i < 2 && math.Abs(float64(variance[i])-wantVar[i]) > 1e-5 {
			t.Errorf("variance[%d] = %g, want %g", i, variance[i], wantVar[i])
		}
	}
	// 1/σ² = e³⁰ + 1, so log σ² = −30 − log(1 + e⁻³⁰) ≈ −30.
	if math.Abs(float64(logVar[2])+30) > 1e-5 {
		t.Errorf("log-variance of the precise combination %g, want −30", logVar[2])
	}
}

// TestLadderIWAE checks the hierarchical importance sampler: with k=1 it is
// the negative ELBO in expectation, and it grows with k (Burda et al. 2015).
func TestLadderIWAE(t *testing.T) {
	m, _, err := variants.New("ladder-vae", nil, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	estimate := func(k int) float64 {
		store := model.NewStore()
		if err := store.SetRNGStateFromSeed(5); err != nil {
			t.Fatal(err)
		}
		x, y := mnistBatch(t, 256)
		out, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
			return graph.ReduceAllMean(m.(vae.LikelihoodEstimator).LogLikelihood(scope.At("model"), vae.Batch{X: x, Labels: y}, k))
		}, x, y)
		if err != nil {
			t.Fatal(err)
		}
		return float64(tensors.ToScalar[float32](out))
	}
	k1, k20 := estimate(1), estimate(20)
	nelbo := lossOnBatch(t, "ladder-vae", nil, 5, 256)["nelbo"]
	if math.Abs(-k1-nelbo) > 0.01*nelbo {
		t.Errorf("IWAE k=1 = %.3f, −NELBO = %.3f: should agree within 1%%", k1, -nelbo)
	}
	if !(k20 > k1) {
		t.Errorf("IWAE k=20 (%.3f) not above k=1 (%.3f)", k20, k1)
	}
}

// TestLadderTraining trains briefly: the loss falls, and the recorded KL
// weight follows the warm-up ramp, 0 at the first step and (s−1)/warmup at step s.
func TestLadderTraining(t *testing.T) {
	res, db := trainBriefly(t, "ladder-vae", map[string]any{"warmup_steps": 100})
	requireLossFalls(t, db, res.RunID, "train/loss", 100)
	h, err := db.MetricHistory(res.RunID, "train/kl_weight")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) == 0 {
		t.Fatal("no train/kl_weight recorded")
	}
	for _, p := range h {
		if want := math.Min(float64(p.Step-1)/100, 1); math.Abs(p.Value-want) > 1e-6 {
			t.Errorf("kl_weight at step %d = %g, want %g", p.Step, p.Value, want)
		}
	}
}

func TestLadderRejectsBadParams(t *testing.T) {
	for _, bad := range []map[string]any{
		{"upper_latent_dims": ""}, {"upper_latent_dims": "32,0"}, {"ladder_hidden": 0}, {"warmup_steps": -1},
		{"free_bits": -0.5}, {"latent_dim": 0}, {"hidden": "0"},
	} {
		if _, _, err := variants.New("ladder-vae", bad, mnistData); err == nil {
			t.Errorf("params %v accepted", bad)
		} else {
			t.Logf("%v: %v", bad, err)
		}
	}
}

// TestLadderLong is the measurement: the default ladder on full MNIST with
// a 100-sample IWAE bound (VAEXP_LONG=1).
func TestLadderLong(t *testing.T) {
	trainFull(t, "ladder-vae", nil, 10, func(s *experiments.Spec) { s.Eval.IWAEK = 100 })
}

// TestLadderBatchNorm checks that batch_norm engages: a training graph
// normalizes with the batch's statistics and an evaluation graph with the
// running averages (still at their initial 0 and 1), so the same untrained
// weights give different terms; both are finite, and NELBO = recon + Σ KL.
func TestLadderBatchNorm(t *testing.T) {
	params := map[string]any{"batch_norm": true, "warmup_steps": 0}
	requireOutputs(t, "ladder-vae", params, 16)
	train := trainingLossOnBatch(t, "ladder-vae", params, 1, 32)
	eval := lossOnBatch(t, "ladder-vae", params, 1, 32)
	if train["recon"] == eval["recon"] {
		t.Errorf("recon %.4f in training and evaluation graphs: batch normalization did nothing", train["recon"])
	}
	for _, got := range []map[string]float64{train, eval} {
		if math.Abs(got["nelbo"]-(got["recon"]+got["kl1"]+got["kl2"])) > 1e-4*got["nelbo"] {
			t.Errorf("nelbo %.4f != recon + kl1 + kl2 (%v)", got["nelbo"], got)
		}
	}
	plain := lossOnBatch(t, "ladder-vae", map[string]any{"warmup_steps": 0}, 1, 32)
	if plain["recon"] == train["recon"] {
		t.Errorf("batch_norm=true gives the same recon as false: %v", plain["recon"])
	}
}

// TestLayeredEncoders checks EncodeLayers of the hierarchical families: one
// code per stochastic layer, [B, dᵢ], z1 the one Encode returns.
func TestLayeredEncoders(t *testing.T) {
	for _, c := range []struct {
		family string
		params map[string]any
		dims   []int
	}{
		{"ladder-vae", map[string]any{"upper_latent_dims": "16,8", "latent_dim": 20}, []int{20, 16, 8}},
		{"iwae", twoLayers, []int{100, 50}},
	} {
		m, _, err := variants.New(c.family, c.params, mnistData)
		if err != nil {
			t.Fatal(err)
		}
		store := model.NewStore()
		_ = store.SetRNGStateFromSeed(1)
		x, y := mnistBatch(t, 8)
		outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
			b := vae.Batch{X: x, Labels: y}
			ms := scope.At("model")
			return append(m.(vae.LayeredEncoder).EncodeLayers(ms, b), m.(vae.Encoder).Encode(ms, b))
		}, x, y)
		if err != nil {
			t.Fatal(err)
		}
		if len(outs) != len(c.dims)+1 {
			t.Fatalf("%s: %d layers, want %d", c.family, len(outs)-1, len(c.dims))
		}
		for i, d := range c.dims {
			if got := outs[i].Shape().Dimensions; got[0] != 8 || got[1] != d {
				t.Errorf("%s: layer %d shape %v, want [8 %d]", c.family, i+1, got, d)
			}
		}
		z1, enc := tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[len(outs)-1])
		for i := range z1 {
			if z1[i] != enc[i] {
				t.Fatalf("%s: EncodeLayers' z1 differs from Encode at %d: %v vs %v", c.family, i, z1[i], enc[i])
			}
		}
	}
}
