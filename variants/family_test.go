package variants_test

// Shared helpers for the family tests: every family is checked the same way,
// on real MNIST, through the same run driver users call.

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// trainBriefly trains family on 2048 MNIST examples for 2 epochs of batch 64
// and returns the run's result and its database.
func trainBriefly(t *testing.T, family string, params map[string]any) (experiments.Result, *tracker.DB) {
	t.Helper()
	db, err := tracker.Open(filepath.Join(t.TempDir(), "vaexp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
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

// lossOnBatch builds family with params on a fresh store seeded with seed and
// returns the batch means of its terms (plus "total" and, when defined,
// "nelbo") on the first n MNIST images.
func lossOnBatch(t *testing.T, family string, params map[string]any, seed int64, n int) map[string]float64 {
	t.Helper()
	m, _, err := variants.New(family, params, vae.MNISTShape)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		t.Fatal(err)
	}
	x, y := mnistBatch(t, n)
	var names []string
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
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
