package variants_test

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

func TestBetaTCVAEOutputs(t *testing.T) {
	requireOutputs(t, "beta-tcvae", nil, 8)
}

func TestBetaTCVAETermsFinite(t *testing.T) {
	for _, est := range []string{"mws", "mss"} {
		got := lossOnBatch(t, "beta-tcvae", map[string]any{"estimator": est, "alpha": 2, "gamma": 0.5}, 1, 64)
		want := got["recon"] + 2*got["mi"] + 6*got["tc"] + 0.5*got["dwkl"]
		if math.Abs(got["total"]-want) > 1e-4*(math.Abs(want)+math.Abs(got["tc"])*6) {
			t.Errorf("%s: total %.4f != recon + 2·mi + 6·tc + 0.5·dwkl = %.4f (%v)", est, got["total"], want, got)
		}
		if math.Abs(got["nelbo"]-(got["recon"]+got["kl"])) > 1e-3*got["nelbo"] {
			t.Errorf("%s: nelbo %.4f != recon + kl (%v)", est, got["nelbo"], got)
		}
	}
}

// TestBetaTCVAEIdenticalPosteriors is the estimators' known value: on a
// batch of one image repeated, every posterior is the same diagonal
// Gaussian, so q(z) = q(z|x) and q(z) factorizes: the true mi and tc are 0
// and dwkl is the whole KL. MSS's weights sum to 1 and recover exactly that;
// MWS's sum to 1/N, which shifts mi by +log N, tc by +(L−1)·log N and dwkl
// by −L·log N (the constant offsets documented on BetaTCVAEConfig).
func TestBetaTCVAEIdenticalPosteriors(t *testing.T) {
	const n, latent, dataset = 64, 10, 60000
	x1, _ := mnistBatch(t, 1)
	pix := tensors.MustCopyFlatData[float32](x1)
	rep := make([]float32, 0, n*len(pix))
	for range n {
		rep = append(rep, pix...)
	}
	x := tensors.FromFlatDataAndDimensions(rep, n, 28, 28, 1)
	logN := math.Log(dataset)
	for _, tc := range []struct {
		est                  string
		mi, tcShift, dwShift float64
	}{
		{"mss", 0, 0, 0},
		{"mws", logN, (latent - 1) * logN, -latent * logN},
	} {
		params := map[string]any{"estimator": tc.est, "latent_dim": latent, "dataset_size": dataset}
		m, _, err := variants.New("beta-tcvae", params, mnistData)
		if err != nil {
			t.Fatal(err)
		}
		store := model.NewStore()
		if err := store.SetRNGStateFromSeed(4); err != nil {
			t.Fatal(err)
		}
		got := termsPerExample(t, gobackend.GetBackend(), store, m, x, nil)
		for i := range n {
			// The one-sample KL, log q(z|x) − log p(z), is what the three parts sum to.
			sum := got["mi"][i] + got["tc"][i] + got["dwkl"][i]
			checks := []struct {
				name      string
				got, want float64
			}{
				{"mi", got["mi"][i], tc.mi},
				{"tc", got["tc"][i], tc.tcShift},
				{"dwkl", got["dwkl"][i], sum + tc.dwShift},
			}
			for _, c := range checks {
				// float32 rounding of sums over 10 dimensions: ~1e-5 measured.
				if math.Abs(c.got-c.want) > 1e-4+1e-6*math.Abs(c.want) {
					t.Fatalf("%s, example %d: %s = %.5f, want %.5f", tc.est, i, c.name, c.got, c.want)
				}
			}
		}
	}
}

// TestBetaTCVAETrainingAndDecomposition trains briefly (the total loss must
// fall), then checks the decomposition on the trained model: over 1024
// test-free training images, mean(mi + tc + dwkl) must equal the mean
// analytic KL. Per example, mi + tc + dwkl telescopes to the one-sample
// estimate log q(z|x) − log p(z), so the two means differ only by Monte-Carlo
// noise: the tolerance is 4 standard errors of the per-example difference
// (a false alarm has probability ~6e-5) plus float32 rounding.
func TestBetaTCVAETrainingAndDecomposition(t *testing.T) {
	res, db := trainBriefly(t, "beta-tcvae", nil)
	requireLossFalls(t, db, res.RunID, "train/loss", 100)
	requireLossFalls(t, db, res.RunID, "train/nelbo", 100)
	tr, err := experiments.Load(db, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1024
	x, y := mnistBatch(t, n)
	got := termsPerExample(t, tr.Backend, tr.Store, tr.Model, x, y)
	var mean, meanKL, sq float64
	for i := range n {
		d := got["mi"][i] + got["tc"][i] + got["dwkl"][i] - got["kl"][i]
		mean += d / n
		sq += d * d / n
		meanKL += got["kl"][i] / n
	}
	se := math.Sqrt((sq - mean*mean) / (n - 1))
	t.Logf("trained: mean KL %.3f, mean(mi+tc+dwkl) − KL = %.4f, standard error %.4f", meanKL, mean, se)
	// After 2 small epochs the mean KL is ~4 nats (the plain VAE's ~6): the
	// posteriors differ between examples, unlike at initialization (< 1).
	if meanKL < 2 {
		t.Fatalf("mean KL %.3f: the model has not learned a posterior worth testing", meanKL)
	}
	if math.Abs(mean) > 4*se+1e-4*meanKL {
		t.Errorf("mean(mi + tc + dwkl) − mean KL = %.4f, more than 4 standard errors (%.4f)", mean, se)
	}
}

func TestBetaTCVAERejectsBadHyperparameters(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"alpha": -1}, "alpha=-1"},
		{map[string]any{"beta": -0.5}, "beta=-0.5"},
		{map[string]any{"gamma": "Inf"}, "gamma=+Inf"},
		{map[string]any{"dataset_size": -1}, "dataset_size=-1"},
		{map[string]any{"estimator": "iwae"}, `estimator="iwae"`},
		{map[string]any{"latent_dim": 0}, "latent_dim=0"},
	} {
		_, _, err := variants.New("beta-tcvae", tc.params, mnistData)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("params %v: error %v, want one naming %q", tc.params, err, tc.want)
		}
	}
}

func TestBetaTCVAELong(t *testing.T) {
	trainFull(t, "beta-tcvae", nil, 5, nil)
}

// termsPerExample evaluates m's loss terms on x (labels y, may be nil) and
// returns each term per example (scalars repeated).
func termsPerExample(t *testing.T, backend compute.Backend, store *model.Store, m vae.Model, x, y *tensors.Tensor) map[string][]float64 {
	t.Helper()
	n := x.Shape().Dimensions[0]
	var names []string
	fn := func(scope *model.Scope, x *graph.Node, y *graph.Node) []*graph.Node {
		b := vae.Batch{X: x, Labels: y}
		l := m.Loss(scope.At("model"), b)
		var out []*graph.Node
		for _, term := range l.Terms {
			names = append(names, term.Name)
			v := term.Value
			if v.Rank() == 0 {
				v = graph.BroadcastToDims(v, n)
			}
			out = append(out, v)
		}
		return out
	}
	var outs []*tensors.Tensor
	var err error
	if y == nil {
		outs, err = model.CallOnceN(backend, store, func(scope *model.Scope, x *graph.Node) []*graph.Node { return fn(scope, x, nil) }, x)
	} else {
		outs, err = model.CallOnceN(backend, store, fn, x, y)
	}
	if err != nil {
		t.Fatal(err)
	}
	res := map[string][]float64{}
	for i, o := range outs {
		vals := tensors.MustCopyFlatData[float32](o)
		f := make([]float64, len(vals))
		for j, v := range vals {
			f[j] = float64(v)
			if math.IsNaN(f[j]) || math.IsInf(f[j], 0) {
				t.Errorf("term %s, example %d: %v", names[i], j, v)
			}
		}
		res[names[i]] = f
	}
	return res
}
