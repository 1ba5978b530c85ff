package variants_test

// Shared helpers for the family tests: every family is checked the same way,
// on real MNIST, through the same run driver users call.

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// mnistData is what a family learns of MNIST when it trains on all of it.
var mnistData = data.MNIST{}.Describe().Model(60000)

// openTestDB opens a fresh tracker database in the test's temporary folder.
func openTestDB(t *testing.T) *tracker.DB {
	t.Helper()
	db, err := tracker.Open(filepath.Join(t.TempDir(), "vaexp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// trainBriefly trains family on 2048 MNIST examples for 2 epochs of batch 64
// and returns the run's result and its database.
func trainBriefly(t *testing.T, family string, params map[string]any) (experiments.Result, *tracker.DB) {
	t.Helper()
	db := openTestDB(t)
	spec := experiments.DefaultSpec()
	spec.Family = family
	spec.Params = params
	spec.Data.Limit = 2048
	spec.Data.TestLimit = 500
	spec.Train.Epochs = 2
	spec.Train.BatchSize = 64
	spec.Eval.Samples = 16
	res, err := experiments.Run(context.Background(), spec, experiments.Options{DB: db, OutDir: t.TempDir()})
	if err != nil {
		t.Fatalf("train %s: %v", family, err)
	}
	return res, db
}

// requireLossFalls checks that the mean of key over the last 10 recorded
// steps is below the mean over the first 10 by at least minDrop.
func requireLossFalls(t *testing.T, db *tracker.DB, runID int64, key string, minDrop float64) {
	t.Helper()
	h, err := db.MetricHistory(runID, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) < 20 {
		t.Fatalf("%s: only %d points", key, len(h))
	}
	mean := func(pts []tracker.Point) float64 {
		s := 0.0
		for _, p := range pts {
			s += p.Value
		}
		return s / float64(len(pts))
	}
	first, last := mean(h[:10]), mean(h[len(h)-10:])
	if !(last < first-minDrop) {
		t.Errorf("%s did not fall by %g: first 10 steps %.3f, last 10 steps %.3f", key, minDrop, first, last)
	}
}

// mnistBatch returns the first n MNIST training images and labels as tensors.
func mnistBatch(t *testing.T, n int) (x, y *tensors.Tensor) {
	t.Helper()
	im, err := data.LoadMNIST("", "train")
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	pix := make([]float32, n*im.Dim())
	im.Float32(pix, idx)
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(im.Labels[i])
	}
	return tensors.FromFlatDataAndDimensions(pix, n, im.Height, im.Width, 1), tensors.FromFlatDataAndDimensions(labels, n)
}

// sameValueTol is the relative tolerance for two float32 computations of one
// quantity that differ only in the order of their operations, e.g. the NELBO
// summed per example and then averaged against the total averaged per term
// and then summed. GoMLX's Go backend picks AVX-512 or AVX2 kernels at run
// time, which reduce in different orders: on an AVX2-only CPU such pairs
// differ in the last bits (issue 8). float32 carries 24 bits (ε ≈ 6e-8) and a
// mean over 32-64 examples of terms near 550 nats reorders to within a few
// ulps; 1e-5 is over 100 ulps, yet a missing or misweighted term (≥ 1e-3
// relative for every family here) still fails.
const sameValueTol = 1e-5

// requireSame fails when got and want, two computations of one quantity,
// differ by more than sameValueTol relative to want (absolute below 1).
func requireSame(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > sameValueTol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.9g, want %.9g (± %g relative)", what, got, want, sameValueTol)
	}
}

// familyBatch returns the first n training examples of the data set family
// accepts with params — MNIST if it takes images, else the 1-digit Moving
// MNIST — and what the family learns of that data set.
func familyBatch(t *testing.T, family string, params map[string]any, n int) (vae.Data, *tensors.Tensor, *tensors.Tensor) {
	t.Helper()
	if _, err := variants.NewConfig(family, params, mnistData); err == nil {
		x, y := mnistBatch(t, n)
		return mnistData, x, y
	}
	return dataBatch(t, "moving-mnist-1", n)
}

// dataBatch returns the first n training examples of the named data set
// (generated from data seed 1) and what a family learns of it.
func dataBatch(t *testing.T, name string, n int) (vae.Data, *tensors.Tensor, *tensors.Tensor) {
	t.Helper()
	ds, err := data.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	desc := ds.Describe()
	splits, err := ds.Load(data.LoadOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	x := make([]float32, n*desc.Shape.Size())
	y := make([]int32, n)
	splits.Train.Fill(x, y, idx)
	return desc.Model(desc.Train), tensors.FromFlatDataAndDimensions(x, desc.Shape.BatchDims(n)...), tensors.FromFlatDataAndDimensions(y, n)
}

// lossOnBatch builds family with params on a fresh store seeded with seed and
// returns the batch means of its terms (plus "total" and, when defined,
// "nelbo") on the first n examples of the data it accepts (familyBatch).
func lossOnBatch(t *testing.T, family string, params map[string]any, seed int64, n int) map[string]float64 {
	t.Helper()
	return termsOnBatch(t, family, params, seed, n, false)
}

// trainingLossOnBatch is lossOnBatch with the graph marked as training, as
// the driver's training step marks it (corruption, running statistics).
func trainingLossOnBatch(t *testing.T, family string, params map[string]any, seed int64, n int) map[string]float64 {
	t.Helper()
	return termsOnBatch(t, family, params, seed, n, true)
}

func termsOnBatch(t *testing.T, family string, params map[string]any, seed int64, n int, training bool) map[string]float64 {
	t.Helper()
	d, x, y := familyBatch(t, family, params, n)
	m, _, err := variants.New(family, params, d)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		t.Fatal(err)
	}
	var names []string
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		scope.SetTraining(x.Graph(), training)
		l := m.Loss(scope.At("model"), vae.Batch{X: x, Labels: y})
		var nodes []*graph.Node
		for _, term := range l.Terms {
			names = append(names, term.Name)
			nodes = append(nodes, graph.ReduceAllMean(term.Value))
		}
		names = append(names, "total")
		nodes = append(nodes, l.Total())
		if l.NELBO != nil {
			names = append(names, "nelbo")
			nodes = append(nodes, graph.ReduceAllMean(l.NELBO))
		}
		return nodes
	}, x, y)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string]float64{}
	for i, o := range outs {
		v := float64(tensors.ToScalar[float32](o))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s: term %s = %v", family, names[i], v)
		}
		res[names[i]] = v
	}
	return res
}

// requireOutputs builds family with params on a fresh store and checks the
// model's outputs on n examples of the data it accepts (familyBatch), asking
// for each capability the family offers: Generate (labels 0..9 cycling)
// returns n examples ([n, 28, 28, 1] for MNIST) of pixel means in [0, 1]; a
// Reconstructor returns pixel means shaped like the batch; an Encoder returns
// [n, latent_dim] finite codes (for sequences, one flat code per sequence).
func requireOutputs(t *testing.T, family string, params map[string]any, n int) {
	t.Helper()
	d, x, y := familyBatch(t, family, params, n)
	requireOutputsOn(t, family, params, d, x, y)
}

// requireOutputsOn is requireOutputs on the batch x, y of the data set d.
// For sequences it also asks a Continuer to continue the first 3 frames by
// 4 (n sequences of 4 frames) and a StepScorer for [n, Frames] scores.
func requireOutputsOn(t *testing.T, family string, params map[string]any, d vae.Data, x, y *tensors.Tensor) {
	t.Helper()
	n := x.Shape().Dimensions[0]
	m, cfg, err := variants.New(family, params, d)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		t.Fatal(err)
	}
	type output struct {
		name string
		want []int // -1: any size
		unit bool  // values are pixel means in [0, 1]
	}
	outputs := []output{{"Generate", d.Shape.BatchDims(n), !d.Real}}
	rc, canReconstruct := m.(vae.Reconstructor)
	if canReconstruct {
		outputs = append(outputs, output{"Reconstruct", d.Shape.BatchDims(n), !d.Real})
	}
	enc, canEncode := m.(vae.Encoder)
	if canEncode {
		latent := int(variants.Values(cfg)["latent_dim"].(int64))
		if d.Shape.IsSequence() {
			latent = -1
		}
		outputs = append(outputs, output{"Encode", []int{n, latent}, false})
	}
	const prefix, ahead = 3, 4
	cont, canContinue := m.(vae.Continuer)
	if canContinue {
		outputs = append(outputs, output{"Continue", vae.Shape{Frames: ahead, Height: d.Shape.Height, Width: d.Shape.Width, Channels: d.Shape.Channels}.BatchDims(n), !d.Real})
	}
	scorer, canScore := m.(vae.StepScorer)
	if canScore {
		outputs = append(outputs, output{"StepNELBO", []int{n, d.Shape.Frames}, false})
	}
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		ms := scope.At("model")
		b := vae.Batch{X: x, Labels: y}
		labels := graph.ConvertDType(graph.ModScalar(graph.Iota(x.Graph(), shapes.Make(dtypes.Int32, n), 0), 10), dtypes.Int32)
		m.Loss(ms, b) // creates every variable, as the driver's training graph does first
		nodes := []*graph.Node{m.Generate(ms, x.Graph(), n, labels)}
		if canReconstruct {
			nodes = append(nodes, rc.Reconstruct(ms, b))
		}
		if canEncode {
			nodes = append(nodes, enc.Encode(ms, b))
		}
		if canContinue {
			nodes = append(nodes, cont.Continue(ms, vae.Batch{X: graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, prefix)), Labels: y}, ahead))
		}
		if canScore {
			nodes = append(nodes, scorer.StepNELBO(ms, b))
		}
		return nodes
	}, x, y)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range outputs {
		if got := outs[i].Shape().Dimensions; !slices.EqualFunc(got, o.want, func(g, w int) bool { return w == -1 || g == w }) {
			t.Errorf("%s: %s shape %v, want %v", family, o.name, got, o.want)
		}
		for _, v := range tensors.MustCopyFlatData[float32](outs[i]) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || (o.unit && (v < 0 || v > 1)) {
				t.Errorf("%s: %s has value %v", family, o.name, v)
				break
			}
		}
	}
}

// variablesAfterSteps trains family for steps steps of batch 64 (main Adam
// learning rate lr) through experiments.Run and returns the float32 model
// variables (path → values) read back from the run's checkpoint. Optimizer
// state kept under the model's scope (an auxiliary Adam's step counter and
// learning rate) is left out.
func variablesAfterSteps(t *testing.T, family string, params map[string]any, lr float64, steps int) map[string][]float32 {
	t.Helper()
	db := openTestDB(t)
	spec := experiments.DefaultSpec()
	spec.Family = family
	spec.Params = params
	spec.Data.Limit = 256
	spec.Data.TestLimit = 64
	spec.Train.Steps = steps
	spec.Train.BatchSize = 64
	spec.Train.LR = lr
	spec.Eval.BatchSize = 64
	spec.Eval.Samples = 0
	res, err := experiments.Run(context.Background(), spec, experiments.Options{DB: db, OutDir: t.TempDir()})
	if err != nil {
		t.Fatalf("train %s: %v", family, err)
	}
	tr, err := experiments.Load(db, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	// Variables load lazily from the checkpoint: building the loss touches them all.
	x, y := mnistBatch(t, 8)
	if _, err := model.CallOnce(tr.Backend, tr.Store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		return tr.Model.Loss(scope.At("model"), vae.Batch{X: x, Labels: y}).Total()
	}, x, y); err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for v := range tr.Store.IterVariables() {
		p := v.Path()
		if !strings.HasPrefix(p, "/model/") || strings.Contains(p, "/aux_adam/") || strings.Contains(p, "/optimizers/") ||
			v.Shape().DType != dtypes.Float32 {
			continue
		}
		out[p] = tensors.MustCopyFlatData[float32](v.MustValue())
	}
	return out
}

// requireAuxSeparation checks, through one real training step, that a
// family's auxiliary objective (whose learning rate is the hyperparameter
// auxLR, training the variables under the model's sub-scope auxScope) and its
// main objective each update only their own variables: changing the
// auxiliary learning rate changes the auxiliary variables and leaves every
// other variable bit-for-bit unchanged, and changing the main learning rate
// does the converse. One step suffices: both updates read the same
// pre-step values, so any cross-talk would show at once.
func requireAuxSeparation(t *testing.T, family string, params map[string]any, auxLR string, auxScope string) {
	t.Helper()
	with := func(lr float64) map[string]any {
		p := map[string]any{auxLR: lr}
		for k, v := range params {
			p[k] = v
		}
		return p
	}
	base := variablesAfterSteps(t, family, with(1e-4), 1e-3, 1)
	auxFaster := variablesAfterSteps(t, family, with(1e-2), 1e-3, 1)
	mainFaster := variablesAfterSteps(t, family, with(1e-4), 1e-2, 1)
	equal := func(a, b []float32) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i] != b[i] {
				return false
			}
		}
		return true
	}
	prefix := "/model/" + auxScope + "/"
	var nAux, nMain, auxMoved, mainMoved int
	for p, v := range base {
		if strings.HasPrefix(p, prefix) {
			nAux++
			if !equal(v, mainFaster[p]) {
				t.Errorf("%s: auxiliary variable %s changed with the main learning rate: the main objective updates it", family, p)
			}
			if !equal(v, auxFaster[p]) {
				auxMoved++
			}
		} else {
			nMain++
			if !equal(v, auxFaster[p]) {
				t.Errorf("%s: variable %s changed with %s: the auxiliary objective updates it", family, p, auxLR)
			}
			if !equal(v, mainFaster[p]) {
				mainMoved++
			}
		}
	}
	if nAux == 0 || nMain == 0 {
		t.Fatalf("%s: %d variables under %s, %d others: nothing to compare", family, nAux, prefix, nMain)
	}
	if auxMoved == 0 {
		t.Errorf("%s: no variable under %s changed with %s: the auxiliary objective trains nothing", family, prefix, auxLR)
	}
	if mainMoved == 0 {
		t.Errorf("%s: no model variable changed with the main learning rate", family)
	}
}

// trainFull trains family with params on the full MNIST training set (grey
// levels, batch 128, Adam 1e-3, the default spec) for epochs and logs the
// test metrics and the seconds per epoch; edit (may be nil) adjusts the spec,
// e.g. Eval.IWAEK. It is the measurement each family reports, minutes long on
// 2 cores, so it runs only with VAEXP_LONG=1; VAEXP_EPOCHS overrides epochs
// and VAEXP_SET="name=value;name=value" adds or overrides params.
//
//	VAEXP_LONG=1 go test -run 'TestVQVAELong' -timeout 60m -v ./variants/
func trainFull(t *testing.T, family string, params map[string]any, epochs int, edit func(*experiments.Spec)) experiments.Result {
	t.Helper()
	if os.Getenv("VAEXP_LONG") == "" {
		t.Skip("long training; set VAEXP_LONG=1")
	}
	if e := os.Getenv("VAEXP_EPOCHS"); e != "" {
		if _, err := fmt.Sscan(e, &epochs); err != nil {
			t.Fatalf("VAEXP_EPOCHS=%q: %v", e, err)
		}
	}
	merged := map[string]any{}
	for k, v := range params {
		merged[k] = v
	}
	for _, kv := range strings.FieldsFunc(os.Getenv("VAEXP_SET"), func(r rune) bool { return r == ';' }) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Fatalf("VAEXP_SET: %q is not name=value", kv)
		}
		merged[strings.TrimSpace(k)] = v
	}
	params = merged
	db := openTestDB(t)
	spec := experiments.DefaultSpec()
	spec.Family = family
	spec.Params = params
	spec.Train.Epochs = epochs
	spec.Eval.Samples = 0
	if edit != nil {
		edit(&spec)
	}
	began := time.Now()
	res, err := experiments.Run(context.Background(), spec, experiments.Options{DB: db, OutDir: t.TempDir()})
	if err != nil {
		t.Fatalf("train %s: %v", family, err)
	}
	wall := time.Since(began)
	stepsPerEpoch := res.Steps / epochs
	t.Logf("%s %v: %d epochs of %d steps, %.1f s/epoch of training loop (median step %s); %.1f s wall in all, with data loading and test evaluation",
		family, params, epochs, stepsPerEpoch, res.TrainTime.Seconds()/float64(epochs), res.MedianStep, wall.Seconds())
	keys := make([]string, 0, len(res.Metrics))
	for k := range res.Metrics {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("  %s = %.4f", k, res.Metrics[k])
	}
	return res
}
