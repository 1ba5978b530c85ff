package variants_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

func TestFactorVAEOutputs(t *testing.T) {
	requireOutputs(t, "factor-vae", nil, 8)
}

func TestFactorVAETermsFinite(t *testing.T) {
	got := lossOnBatch(t, "factor-vae", nil, 1, 64)
	want := got["recon"] + got["kl"] + 6.4*got["tc"]
	if math.Abs(got["total"]-want) > 1e-3*math.Abs(want) {
		t.Errorf("total %.4f != recon + kl + 6.4·tc = %.4f (%v)", got["total"], want, got)
	}
	if math.Abs(got["nelbo"]-(got["recon"]+got["kl"])) > 1e-3*got["nelbo"] {
		t.Errorf("nelbo %.4f != recon + kl (%v)", got["nelbo"], got)
	}
	// An untrained discriminator outputs logits near 0: its cross-entropy is
	// near log 2, and its accuracy is a fraction.
	if math.Abs(got["disc_loss"]-math.Log(2)) > 0.05 {
		t.Errorf("untrained disc_loss = %.4f, want ≈ log 2 = 0.693", got["disc_loss"])
	}
	if got["disc_acc"] < 0 || got["disc_acc"] > 1 {
		t.Errorf("disc_acc = %v outside [0, 1]", got["disc_acc"])
	}
	if got["recon"] < 400 || got["recon"] > 700 || got["kl"] < 0 || got["kl"] > 5 || math.Abs(got["tc"]) > 1 {
		t.Errorf("untrained terms out of range: %v", got)
	}
}

// TestPermuteDims checks the permuted codes the discriminator sees: each
// column is a permutation of the same column (equal as multisets), the
// columns are shuffled independently (rows are broken up), and two draws
// differ.
func TestPermuteDims(t *testing.T) {
	const n, l = 64, 10
	vals := make([]float32, n*l)
	for i := range n {
		for j := range l {
			vals[i*l+j] = float32(i*100 + j) // every value names its row and column
		}
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(3); err != nil {
		t.Fatal(err)
	}
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, z *graph.Node) []*graph.Node {
		return []*graph.Node{variants.PermuteDims(scope, z), variants.PermuteDims(scope, z)}
	}, tensors.FromFlatDataAndDimensions(vals, n, l))
	if err != nil {
		t.Fatal(err)
	}
	first := tensors.MustCopyFlatData[float32](outs[0])
	second := tensors.MustCopyFlatData[float32](outs[1])
	column := func(x []float32, j int) []float32 {
		c := make([]float32, n)
		for i := range n {
			c[i] = x[i*l+j]
		}
		return c
	}
	for j := range l {
		orig, perm := column(vals, j), column(first, j)
		moved := 0
		for i := range n {
			if perm[i] != orig[i] {
				moved++
			}
		}
		sorted := slices.Clone(perm)
		slices.Sort(sorted)
		if !slices.Equal(sorted, orig) { // orig is already ascending
			t.Fatalf("column %d is not a permutation of the original column: %v", j, perm)
		}
		if moved < n/2 {
			t.Errorf("column %d: only %d of %d entries moved", j, moved, n)
		}
	}
	// Independent shuffles: a permuted row keeps values from one original
	// row only by chance (probability ~ 1/64⁹ per row).
	intact := 0
	for i := range n {
		src := int(first[i*l]) / 100
		same := true
		for j := 1; j < l; j++ {
			same = same && int(first[i*l+j])/100 == src
		}
		if same {
			intact++
		}
	}
	if intact > 0 {
		t.Errorf("%d permuted rows are original rows: the columns were not shuffled independently", intact)
	}
	if slices.Equal(first, second) {
		t.Error("two draws gave the same permutation")
	}
}

// TestFactorVAEDiscriminatorGradients checks the gradient paths on one batch:
// the discriminator's loss has zero gradient for every encoder and decoder
// variable (codes reach it through StopGradient) and a non-zero one for the
// discriminator; the main objective has a non-zero gradient for the encoder
// through the TC term (which the optimizer, not the graph, keeps away from
// the discriminator's variables).
func TestFactorVAEDiscriminatorGradients(t *testing.T) {
	requireDiscGradients(t, "factor-vae", nil)
}

// requireDiscGradients is TestFactorVAEDiscriminatorGradients for any
// family with one auxiliary objective on the "discriminator" scope.
func requireDiscGradients(t *testing.T, family string, params map[string]any) {
	t.Helper()
	m, _, err := variants.New(family, params, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(2); err != nil {
		t.Fatal(err)
	}
	x, y := mnistBatch(t, 32)
	var paths []string
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		l := m.Loss(scope.At("model"), vae.Batch{X: x, Labels: y})
		if len(l.Aux) != 1 || l.Aux[0].Scope != "discriminator" {
			t.Fatalf("%s: want one auxiliary objective on scope discriminator, got %+v", family, l.Aux)
		}
		var vars []*graph.Node
		for v := range store.IterVariables() {
			if strings.HasPrefix(v.Path(), "/model/") && v.InUseByGraph(x.Graph()) {
				paths = append(paths, v.Path())
				vars = append(vars, v.NodeValue(x.Graph()))
			}
		}
		aux := graph.Gradient(l.Aux[0].Loss, vars...)
		main := graph.Gradient(l.Total(), vars...)
		var norms []*graph.Node
		for i := range vars {
			norms = append(norms, graph.ReduceAllSum(graph.Abs(aux[i])), graph.ReduceAllSum(graph.Abs(main[i])))
		}
		return norms
	}, x, y)
	if err != nil {
		t.Fatal(err)
	}
	var discAux, encMain float64
	for i, p := range paths {
		aux, main := float64(tensors.ToScalar[float32](outs[2*i])), float64(tensors.ToScalar[float32](outs[2*i+1]))
		switch {
		case strings.HasPrefix(p, "/model/discriminator/"):
			discAux += aux
		case aux != 0:
			t.Errorf("%s: the discriminator's loss has gradient %g for %s: it would push the encoder/decoder", family, aux, p)
		default:
			if strings.HasPrefix(p, "/model/encoder/") {
				encMain += main
			}
		}
	}
	if !(discAux > 0) {
		t.Errorf("%s: the discriminator's loss has no gradient for the discriminator (%g)", family, discAux)
	}
	if !(encMain > 0) {
		t.Errorf("%s: the main objective has no gradient for the encoder (%g)", family, encMain)
	}
}

// TestFactorVAEObjectivesSeparate trains one real step through the run
// driver: the discriminator's Adam moves only the discriminator, the main
// Adam everything else.
func TestFactorVAEObjectivesSeparate(t *testing.T) {
	requireAuxSeparation(t, "factor-vae", nil, "disc_lr", "discriminator")
}

func TestFactorVAETrainingLossFalls(t *testing.T) {
	res, db := trainBriefly(t, "factor-vae", nil)
	requireLossFalls(t, db, res.RunID, "train/loss", 100)
	requireLossFalls(t, db, res.RunID, "train/nelbo", 100)
	if v := res.Metrics["test/nelbo"]; !(v > 50 && v < 250) {
		t.Errorf("test/nelbo = %v after 2 small epochs", v)
	}
}

func TestFactorVAERejectsBadHyperparameters(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"gamma": -1}, "gamma=-1"},
		{map[string]any{"gamma": "NaN"}, "gamma=NaN"},
		{map[string]any{"disc_lr": 0}, "disc_lr=0"},
		{map[string]any{"disc_beta1": 1}, "disc_beta1=1"},
		{map[string]any{"disc_beta2": 0}, "disc_beta2=0"},
		{map[string]any{"disc_hidden": "256,0"}, "disc_hidden=[256 0]"},
		{map[string]any{"disc_hidden": ""}, "disc_hidden is empty"},
		{map[string]any{"latent_dim": 1}, "latent_dim=1"},
		{map[string]any{"latent_dim": 0}, "latent_dim=0"},
	} {
		_, _, err := variants.New("factor-vae", tc.params, mnistData)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("params %v: error %v, want one naming %q", tc.params, err, tc.want)
		}
	}
}

// TestFactorVAELong is the measurement reported for the family: full MNIST,
// the reference MLP, a few epochs. Run with VAEXP_LONG=1 (VAEXP_EPOCHS sets
// the epochs, default 5).
func TestFactorVAELong(t *testing.T) {
	trainFull(t, "factor-vae", nil, 5, nil)
}

// TestFactorVAEResumeIsExact interrupts a factor-vae run and resumes it from
// its checkpoint: the discriminator's terms must continue exactly as in an
// uninterrupted run, so the auxiliary Adam's state (moments, step counter)
// is saved and restored with the model.
func TestFactorVAEResumeIsExact(t *testing.T) {
	db := openTestDB(t)
	out := t.TempDir()
	spec := experiments.DefaultSpec()
	spec.Family = "factor-vae"
	spec.Data.Limit, spec.Data.TestLimit = 512, 64
	spec.Train.Steps, spec.Train.BatchSize, spec.Train.CheckpointEvery = 24, 64, 8
	spec.Eval.BatchSize, spec.Eval.Samples = 64, 0
	straight, err := experiments.Run(context.Background(), spec, experiments.Options{DB: db, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupted, err := experiments.Run(ctx, spec, experiments.Options{DB: db, OutDir: out, OnStep: func(step int, _ map[string]float64) {
		if step == 13 {
			cancel()
		}
	}})
	if err == nil || interrupted.Status != "killed" {
		t.Fatalf("interrupted run: %+v, %v", interrupted, err)
	}
	resumed, err := experiments.Run(context.Background(), experiments.Spec{}, experiments.Options{DB: db, OutDir: out, Resume: interrupted.RunID})
	if err != nil || resumed.Steps != 24 {
		t.Fatalf("resumed run: %+v, %v", resumed, err)
	}
	for _, key := range []string{"train/disc_loss", "train/tc", "train/loss"} {
		got, _ := db.MetricHistory(resumed.RunID, key)
		want, _ := db.MetricHistory(straight.RunID, key)
		if len(got) != 24 || len(want) != 24 {
			t.Fatalf("%s: %d and %d rows, want 24", key, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i].Value-want[i].Value) > 1e-4*math.Abs(want[i].Value)+1e-5 {
				t.Fatalf("%s step %d: resumed %.6f, uninterrupted %.6f", key, i+1, got[i].Value, want[i].Value)
			}
		}
	}
}
