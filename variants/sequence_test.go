package variants_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"gonum.org/v1/gonum/stat"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

var sequenceFamilies = []string{"vrnn", "seq-vae"}

// TestSequenceFamiliesOnSeries checks every output and capability of the
// sequence families on real-valued series (sines: 64 steps of one value),
// where the likelihood is Gaussian and generation draws values.
func TestSequenceFamiliesOnSeries(t *testing.T) {
	for _, family := range sequenceFamilies {
		t.Run(family, func(t *testing.T) {
			d, x, y := dataBatch(t, "sines", 8)
			requireOutputsOn(t, family, nil, d, x, y)
		})
	}
}

// TestSequenceFamiliesRejectImages: a sequence family on single images is a
// mistake named in the error, with the data sets to use instead.
func TestSequenceFamiliesRejectImages(t *testing.T) {
	for _, family := range sequenceFamilies {
		_, err := variants.NewConfig(family, nil, mnistData)
		if err == nil || !strings.Contains(err.Error(), "moving-mnist-1") {
			t.Errorf("%s on MNIST: error %v, want one naming the sequence data sets", family, err)
		}
		d, _, _ := dataBatch(t, "sines", 1)
		if _, err := variants.NewConfig(family, map[string]any{"arch": "conv"}, d); err == nil || !strings.Contains(err.Error(), "arch=mlp") {
			t.Errorf("%s arch=conv on 1×1 frames: error %v, want one suggesting arch=mlp", family, err)
		}
		for _, bad := range []map[string]any{{"latent_dim": 0}, {"state": 0}, {"features": -1}, {"hidden": "64,0"}, {"init": "xavier"}} {
			if _, err := variants.NewConfig(family, bad, d); err == nil {
				t.Errorf("%s: params %v accepted", family, bad)
			}
		}
	}
	if _, err := variants.NewConfig("seq-vae", map[string]any{"content_dim": 0}, mnistData); err == nil {
		t.Error("seq-vae content_dim=0 accepted")
	}
}

// perExample runs fn once on a fresh store seeded with seed and returns its
// outputs as float64 slices.
func perExample(t *testing.T, seed int64, x, y *tensors.Tensor, fn func(scope *model.Scope, b vae.Batch) []*graph.Node) [][]float64 {
	t.Helper()
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		t.Fatal(err)
	}
	return perExampleIn(t, store, x, y, fn)
}

func perExampleIn(t *testing.T, store *model.Store, x, y *tensors.Tensor, fn func(scope *model.Scope, b vae.Batch) []*graph.Node) [][]float64 {
	t.Helper()
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		return fn(scope.At("model"), vae.Batch{X: x, Labels: y})
	}, x, y)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		for _, v := range tensors.MustCopyFlatData[float32](o) {
			res[i] = append(res[i], float64(v))
		}
	}
	return res
}

// TestStepNELBOSumsToNELBO: the per-step scores are the NELBO split over the
// steps. Both graphs draw the same noise from the same seed, so the sums
// agree up to float32 rounding.
func TestStepNELBOSumsToNELBO(t *testing.T) {
	for _, name := range []string{"moving-mnist-1", "sines"} {
		d, x, y := dataBatch(t, name, 8)
		for _, family := range sequenceFamilies {
			m, _, err := variants.New(family, nil, d)
			if err != nil {
				t.Fatal(err)
			}
			nelbo := perExample(t, 3, x, y, func(scope *model.Scope, b vae.Batch) []*graph.Node {
				return []*graph.Node{m.Loss(scope, b).NELBO}
			})[0]
			steps := perExample(t, 3, x, y, func(scope *model.Scope, b vae.Batch) []*graph.Node {
				return []*graph.Node{m.(vae.StepScorer).StepNELBO(scope, b)}
			})[0]
			frames := d.Shape.Frames
			for i, want := range nelbo {
				sum := 0.0
				for _, v := range steps[i*frames : (i+1)*frames] {
					sum += v
				}
				if math.Abs(sum-want) > 1e-4*math.Abs(want)+1e-3 {
					t.Errorf("%s on %s, sequence %d: Σ_t StepNELBO = %.4f, NELBO = %.4f", family, name, i, sum, want)
				}
			}
		}
	}
}

// setVariables sets every float32 variable of the store under prefix with
// set(path, shape dims) (nil: leave it).
func setVariables(t *testing.T, store *model.Store, prefix string, set func(path string, dims []int) []float32) {
	t.Helper()
	n := 0
	for v := range store.IterVariables() {
		p := v.Path()
		if !strings.HasPrefix(p, prefix) || v.Shape().DType != dtypes.Float32 {
			continue
		}
		vals := set(p, v.Shape().Dimensions)
		if vals == nil {
			continue
		}
		if err := v.SetValue(tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...)); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no variable under %s", prefix)
	}
}

// TestKLZeroWhenPriorEqualsPosterior sets the output layers of the
// posterior and the learned prior to the same constant Gaussian (zero
// weights, the same biases): every step's KL must then be exactly zero —
// the KL compares the posterior and prior of the same step — while with the
// initial weights it is positive.
func TestKLZeroWhenPriorEqualsPosterior(t *testing.T) {
	for _, tc := range []struct {
		family, term string
		posterior    string // scope of the posterior network whose last layer is set
		prior        string
	}{
		{"vrnn", "kl", "/model/encoder/", "/model/prior/"},
		{"seq-vae", "kl_z", "/model/dynamics/", "/model/prior/"},
	} {
		t.Run(tc.family, func(t *testing.T) {
			d, x, y := dataBatch(t, "moving-mnist-1", 8)
			m, _, err := variants.New(tc.family, nil, d)
			if err != nil {
				t.Fatal(err)
			}
			store := model.NewStore()
			if err := store.SetRNGStateFromSeed(2); err != nil {
				t.Fatal(err)
			}
			klOf := func() []float64 {
				return perExampleIn(t, store, x, y, func(scope *model.Scope, b vae.Batch) []*graph.Node {
					return []*graph.Node{m.Loss(scope, b).Term(tc.term).Value}
				})[0]
			}
			for i, kl := range klOf() {
				if !(kl > 1e-3) {
					t.Fatalf("initial weights: %s of sequence %d = %g, want > 0", tc.term, i, kl)
				}
			}
			// The same mean and log-variance at every step: a fixed pattern.
			bias := func(dims []int) []float32 {
				v := make([]float32, dims[0])
				for i := range v {
					v[i] = 0.3*float32(i%5) - 0.5
				}
				return v
			}
			for _, scope := range []string{tc.posterior, tc.prior} {
				last := lastLayer(t, store, scope)
				setVariables(t, store, scope, func(p string, dims []int) []float32 {
					switch {
					case strings.HasSuffix(p, "/weights"):
						return make([]float32, prodInts(dims))
					case p == last+"biases":
						return bias(dims)
					}
					return nil
				})
			}
			for i, kl := range klOf() {
				if math.Abs(kl) > 1e-6 {
					t.Errorf("prior = posterior: %s of sequence %d = %g, want 0", tc.term, i, kl)
				}
			}
		})
	}
}

// lastLayer is the scope path of the output layer under scope: the
// "layer_<i>/" with the largest i, or scope itself for a single Dense layer.
func lastLayer(t *testing.T, store *model.Store, scope string) string {
	t.Helper()
	last := ""
	for v := range store.IterVariables() {
		p := v.Path()
		if !strings.HasPrefix(p, scope) || !strings.HasSuffix(p, "/biases") {
			continue
		}
		if dir := strings.TrimSuffix(p, "biases"); dir > last {
			last = dir
		}
	}
	if last == "" {
		t.Fatalf("no biases under %s", scope)
	}
	return last
}

func prodInts(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// TestSequenceIWAE checks the sequence-level importance-weighted estimates
// on an untrained model (the seed fixes the weights): with k = 1 the
// estimate is −NELBO in expectation — per sequence, the difference of the
// two one-sample estimates must average to zero within 4 standard errors —
// and it rises with k (Burda et al. 2015, Theorem 1).
func TestSequenceIWAE(t *testing.T) {
	for _, family := range sequenceFamilies {
		t.Run(family, func(t *testing.T) {
			d, x, y := dataBatch(t, "sines", 128)
			// A small network: the property does not depend on its size.
			m, _, err := variants.New(family, map[string]any{"state": 32, "features": 32, "hidden": 64}, d)
			if err != nil {
				t.Fatal(err)
			}
			est := m.(vae.LikelihoodEstimator)
			outs := perExample(t, 7, x, y, func(scope *model.Scope, b vae.Batch) []*graph.Node {
				return []*graph.Node{m.Loss(scope, b).NELBO, est.LogLikelihood(scope, b, 1), est.LogLikelihood(scope, b, 4), est.LogLikelihood(scope, b, 16)}
			})
			diff := make([]float64, len(outs[0]))
			for i := range diff {
				diff[i] = -outs[1][i] - outs[0][i]
			}
			mean, std := stat.MeanStdDev(diff, nil)
			se := std / math.Sqrt(float64(len(diff)))
			if math.Abs(mean) > 4*se+1e-3 {
				t.Errorf("−IWAE(k=1) − NELBO averages %.3f ± %.3f (SE) nats over %d sequences, want 0", mean, se, len(diff))
			}
			k1, k4, k16 := stat.Mean(outs[1], nil), stat.Mean(outs[2], nil), stat.Mean(outs[3], nil)
			t.Logf("NELBO %.3f; log p(x) estimates: k=1 %.3f, k=4 %.3f, k=16 %.3f", stat.Mean(outs[0], nil), k1, k4, k16)
			if !(k1 < k4 && k4 < k16) {
				t.Errorf("IWAE estimates do not rise with k: k=1 %.3f, k=4 %.3f, k=16 %.3f", k1, k4, k16)
			}
		})
	}
}

// TestGenerateDeterministicForSeed: the same seed draws the same sequences;
// another seed draws others.
func TestGenerateDeterministicForSeed(t *testing.T) {
	d, x, y := dataBatch(t, "moving-mnist-1", 4)
	for _, family := range sequenceFamilies {
		m, _, err := variants.New(family, nil, d)
		if err != nil {
			t.Fatal(err)
		}
		gen := func(seed int64) []float64 {
			return perExample(t, seed, x, y, func(scope *model.Scope, b vae.Batch) []*graph.Node {
				return []*graph.Node{m.Generate(scope, b.X.Graph(), 4, nil)}
			})[0]
		}
		a, b, c := gen(5), gen(5), gen(6)
		same, other := true, false
		for i := range a {
			same = same && a[i] == b[i]
			other = other || a[i] != c[i]
		}
		if !same || !other {
			t.Errorf("%s: same seed identical %v (want true), other seed differs %v (want true)", family, same, other)
		}
	}
}

// trainSequence trains family on data for steps steps of batch 32 (2048
// training sequences, 64 test sequences) and returns the run and its database.
func trainSequence(t *testing.T, family, dataName string, params map[string]any, steps int) (experiments.Result, *tracker.DB) {
	t.Helper()
	db := openTestDB(t)
	spec := experiments.DefaultSpec()
	spec.Family = family
	spec.Params = params
	spec.Data.Name = dataName
	spec.Data.Limit = 2048
	spec.Data.TestLimit = 64
	spec.Train.Steps = steps
	spec.Train.BatchSize = 32
	spec.Eval.BatchSize = 64
	spec.Eval.Samples = 4
	res, err := experiments.Run(context.Background(), spec, experiments.Options{DB: db, OutDir: t.TempDir()})
	if err != nil {
		t.Fatalf("train %s on %s: %v", family, dataName, err)
	}
	return res, db
}

// TestSequenceTrainingLossFalls trains each sequence family briefly on the
// 1-digit Moving MNIST and on sines: the loss must fall.
func TestSequenceTrainingLossFalls(t *testing.T) {
	for _, tc := range []struct {
		family, data string
		steps        int
		drop         float64 // nats per sequence
	}{
		{"vrnn", "moving-mnist-1", 60, 300},
		{"vrnn", "sines", 60, 20},
		{"seq-vae", "moving-mnist-1", 60, 300},
	} {
		t.Run(tc.family+"/"+tc.data, func(t *testing.T) {
			res, db := trainSequence(t, tc.family, tc.data, nil, tc.steps)
			requireLossFalls(t, db, res.RunID, "train/loss", tc.drop)
			if v := res.Metrics["test/nelbo"]; math.IsNaN(v) || v == 0 {
				t.Errorf("test/nelbo = %v", v)
			}
		})
	}
}
