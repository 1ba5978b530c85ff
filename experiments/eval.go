package experiments

import (
	"context"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/iwae"
	"github.com/vaexp/vaexp/vae"
)

// modelScope is where every family's variables live in the Store.
const modelScope = "model"

// evaluator computes a model's loss terms over a data set without training.
//
// Each evaluation compiles a fresh graph: outside training the Go backend
// embeds variables as constants (Capabilities().PreferConstantsForVariables),
// so a graph compiled once would keep evaluating the weights it first saw.
type evaluator struct {
	backend compute.Backend
	store   *model.Store
	m       vae.Model
	// ctx stops an evaluation between batches (the fused likelihood
	// estimate: between examples).
	ctx context.Context
}

func newEvaluator(ctx context.Context, backend compute.Backend, store *model.Store, m vae.Model) *evaluator {
	return &evaluator{ctx: ctx, backend: backend, store: store, m: m}
}

// evaluate returns the mean of each loss output over the set, in batches of
// batchSize (the last one padded by repeating examples, which are not counted).
func (e *evaluator) evaluate(set *exampleSet, batchSize int, stream string) (map[string]float64, error) {
	var names []string
	exec, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		scope.SetTraining(x.Graph(), false)
		var nodes []*graph.Node
		names, nodes = e.m.Loss(scope.At(modelScope), vae.Batch{X: x, Labels: y}).Outputs(x.Shape().Dimensions[0])
		return nodes
	})
	if err != nil {
		return nil, err
	}
	defer exec.Finalize()
	sums, count, err := e.sumOver(exec, set, batchSize, stream)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for i, name := range names {
		out[name] = sums[i] / float64(count)
	}
	return out, nil
}

// maxDecodesPerCall bounds the k·batch decodes (k·batch·frames for
// sequences) of one call of a k-sample likelihood estimate, so that memory
// stays bounded for large k.
const maxDecodesPerCall = 20000

// logLikelihood returns the mean k-sample IWAE estimate of log p(x) over the
// set and how it was computed: "fused-<kernel>" (experiments/iwae) for
// families that describe their MLP decoder, "graph" for the others, "" when
// the family has no importance sampler.
func (e *evaluator) logLikelihood(set *exampleSet, k, batchSize int, stream string) (ll float64, path string, err error) {
	est, ok := e.m.(vae.LikelihoodEstimator)
	if !ok {
		return 0, "", nil
	}
	// The fused path binarizes in the same batches, to score the same pixels.
	bs := max(1, min(batchSize, maxDecodesPerCall/(k*max(1, set.shape.Frames))))
	if layers, fast, ok := e.iwaeLayers(); ok {
		ll, err := e.fusedLogLikelihood(fast, layers, set, k, bs, stream)
		return ll, "fused-" + iwae.Kernel(), err
	}
	ll, err = e.graphLogLikelihood(est, set, k, bs, stream)
	return ll, "graph", err
}

// graphLogLikelihood is the estimate by the family's own graph, in batches
// of bs examples.
func (e *evaluator) graphLogLikelihood(est vae.LikelihoodEstimator, set *exampleSet, k, bs int, stream string) (float64, error) {
	exec, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		scope.SetTraining(x.Graph(), false)
		return est.LogLikelihood(scope.At(modelScope), vae.Batch{X: x, Labels: y}, k)
	})
	if err != nil {
		return 0, err
	}
	defer exec.Finalize()
	sums, count, err := e.sumOver(exec, set, bs, stream)
	if err != nil {
		return 0, err
	}
	return sums[0] / float64(count), nil
}

// sumOver runs exec over the set and sums each per-example output.
func (e *evaluator) sumOver(exec *model.Exec, set *exampleSet, batchSize int, stream string) (sums []float64, count int, err error) {
	n := set.len()
	for start := 0; start < n; start += batchSize {
		if err := e.ctx.Err(); err != nil {
			return nil, 0, err
		}
		idx := make([]int, batchSize)
		valid := min(batchSize, n-start)
		for i := range idx {
			idx[i] = start + i%valid // pad by repeating
		}
		batch := set.batch(idx, stream, start)
		outs, err := exec.Call(batch.Inputs[0], batch.Inputs[1])
		if err != nil {
			return nil, 0, fmt.Errorf("evaluate: %w", err)
		}
		if sums == nil {
			sums = make([]float64, len(outs))
		}
		for i, o := range outs {
			vals := tensors.MustCopyFlatData[float32](o)
			for j := 0; j < valid; j++ {
				sums[i] += float64(vals[j])
			}
			_ = o.FinalizeAll()
		}
		count += valid
	}
	for i, s := range sums {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, 0, fmt.Errorf("evaluate: output %d is %v", i, s)
		}
	}
	return sums, count, nil
}

// images runs a model method that returns pixel means and splits them into images.
func images(t *tensors.Tensor) [][]float32 {
	flat := tensors.MustCopyFlatData[float32](t)
	n := t.Shape().Dimensions[0]
	size := len(flat) / n
	out := make([][]float32, n)
	for i := range out {
		out[i] = flat[i*size : (i+1)*size]
	}
	return out
}

// generate draws n samples from the model; conditional families get labels 0..9 cycling.
func generate(backend compute.Backend, store *model.Store, m vae.Model, n, classes int) ([][]float32, error) {
	t, err := model.CallOnce(backend, store, func(scope *model.Scope, g *graph.Graph) *graph.Node {
		scope.SetTraining(g, false)
		var labels *graph.Node
		if classes > 0 {
			labels = graph.ConvertDType(graph.ModScalar(graph.Iota(g, shapes.Make(dtypes.Int32, n), 0), classes), dtypes.Int32)
		}
		return m.Generate(scope.At(modelScope), g, n, labels)
	})
	if err != nil {
		return nil, err
	}
	return images(t), nil
}

// reconstruct returns the model's reconstructions of a batch; m must be a
// [vae.Reconstructor].
func reconstruct(backend compute.Backend, store *model.Store, m vae.Reconstructor, b batchTensors) ([][]float32, error) {
	t, err := model.CallOnce(backend, store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		scope.SetTraining(x.Graph(), false)
		return m.Reconstruct(scope.At(modelScope), vae.Batch{X: x, Labels: y})
	}, b.x, b.y)
	if err != nil {
		return nil, err
	}
	return images(t), nil
}

// batchTensors is one batch's input tensors.
type batchTensors struct{ x, y *tensors.Tensor }
