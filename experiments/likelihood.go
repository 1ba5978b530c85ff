package experiments

import (
	"fmt"
	"hash/fnv"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/iwae"
	"github.com/vaexp/vaexp/vae"
)

// The k-sample likelihood estimate through the fused CPU path
// (experiments/iwae) for families that describe their decoder
// (vae.BernoulliMLP): the graph path decodes k·B samples per call with one
// pass over memory per element-wise op, which for k = 5000 is memory-bound;
// the fused path keeps each chunk of samples in cache and runs the decoder's
// matrix products in an assembly microkernel.

// iwaeLayers returns the fused path's networks for m, or ok = false when m
// has none or this build cannot run it fast (then the graph is faster).
func (e *evaluator) iwaeLayers() (layers vae.MLPModel, fast vae.BernoulliMLP, ok bool) {
	fast, ok = e.m.(vae.BernoulliMLP)
	if !ok || !iwae.Accelerated() {
		return vae.MLPModel{}, nil, false
	}
	layers, ok = fast.MLPLayers()
	return layers, fast, ok
}

// fusedLogLikelihood returns the mean k-sample estimate of log p(x) over the
// set. The examples are binarized exactly as the graph path binarizes them
// (the same batches of batchSize on the same stream), so both paths score
// the same pixels.
func (e *evaluator) fusedLogLikelihood(fast vae.BernoulliMLP, dense vae.MLPModel, set *exampleSet, k, batchSize int, stream string) (float64, error) {
	x, y := set.examples(batchSize, stream)
	lls, err := e.fusedEstimates(fast, dense, set, x, y, k, stream)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for _, v := range lls {
		sum += v
	}
	return sum / float64(len(lls)), nil
}

// examples returns every example of the set, binarized as batches of
// batchSize on stream would be: pixels [n, size] and labels [n].
func (s *exampleSet) examples(batchSize int, stream string) (x []float32, y []int32) {
	n, size := s.len(), s.shape.Size()
	x, y = make([]float32, n*size), make([]int32, n)
	for start := 0; start < n; start += batchSize {
		end := min(start+batchSize, n)
		idx := make([]int, end-start)
		for i := range idx {
			idx[i] = start + i
		}
		s.fill(x[start*size:end*size], y[start:end], idx, stream, start)
	}
	return x, y
}

// fusedEstimates returns the k-sample estimate of log p(x) of each example.
func (e *evaluator) fusedEstimates(fast vae.BernoulliMLP, dense vae.MLPModel, set *exampleSet, x []float32, y []int32, k int, stream string) ([]float64, error) {
	mu, logVar, err := e.posteriors(fast, x, y, set)
	if err != nil {
		return nil, err
	}
	var m iwae.Model
	if m.Decoder, err = e.denseLayers(dense.Decoder); err != nil {
		return nil, err
	}
	for _, u := range dense.Upper {
		var s iwae.Stochastic
		if s.Up, err = e.denseLayers(u.Up); err != nil {
			return nil, err
		}
		if s.Down, err = e.denseLayers(u.Down); err != nil {
			return nil, err
		}
		m.Upper = append(m.Upper, s)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(stream))
	return iwae.Estimate(e.ctx, m, x, mu, logVar, iwae.Options{K: k, Seed: uint64(set.seed) ^ h.Sum64()})
}

// posteriors encodes x ([n, size]) into q(z1 | x)'s means and
// log-variances, [n, L] each, in batches of 500 (the last one padded).
func (e *evaluator) posteriors(fast vae.BernoulliMLP, x []float32, y []int32, set *exampleSet) (mu, logVar []float32, err error) {
	exec, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		scope.SetTraining(x.Graph(), false)
		q := fast.BottomPosterior(scope.At(modelScope), vae.Batch{X: x, Labels: y})
		return []*graph.Node{q.Mean, q.LogVar}
	})
	if err != nil {
		return nil, nil, err
	}
	defer exec.Finalize()
	n, size := len(y), set.shape.Size()
	const bs = 500
	b := min(bs, n)
	for start := 0; start < n; start += b {
		valid := min(b, n-start)
		xb, yb := make([]float32, b*size), make([]int32, b)
		for i := range b {
			j := start + i%valid // pad by repeating
			copy(xb[i*size:(i+1)*size], x[j*size:(j+1)*size])
			yb[i] = y[j]
		}
		outs, err := exec.Call(tensors.FromFlatDataAndDimensions(xb, set.shape.BatchDims(b)...), tensors.FromFlatDataAndDimensions(yb, b))
		if err != nil {
			return nil, nil, fmt.Errorf("encode: %w", err)
		}
		m, v := tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
		lat := len(m) / b
		mu, logVar = append(mu, m[:valid*lat]...), append(logVar, v[:valid*lat]...)
		for _, o := range outs {
			_ = o.FinalizeAll()
		}
	}
	return mu, logVar, nil
}

// denseLayers reads a network's weights and biases from the store (loading
// them from the checkpoint if no graph has used them yet).
func (e *evaluator) denseLayers(dense []vae.DenseLayer) ([]iwae.Layer, error) {
	out := make([]iwae.Layer, len(dense))
	for i, d := range dense {
		read := func(name string) (*tensors.Tensor, error) {
			path := "/" + modelScope + "/" + d.Scope + "/" + name
			v := e.store.GetVariable(path)
			if v == nil {
				return nil, fmt.Errorf("variable %s not found", path)
			}
			return v.Value()
		}
		w, err := read("weights")
		if err != nil {
			return nil, err
		}
		b, err := read("biases")
		if err != nil {
			return nil, err
		}
		dims := w.Shape().Dimensions
		if len(dims) != 2 {
			return nil, fmt.Errorf("layer %s: weights of shape %v, want [out, in]", d.Scope, dims)
		}
		act := iwae.Identity
		switch d.Activation {
		case activation.TypeNone:
		case activation.TypeTanh:
			act = iwae.Tanh
		case activation.TypeRelu:
			act = iwae.Relu
		default:
			return nil, fmt.Errorf("layer %s: activation %s has no fused form", d.Scope, d.Activation)
		}
		out[i] = iwae.Layer{In: dims[1], Out: dims[0], Weights: tensors.MustCopyFlatData[float32](w),
			Biases: tensors.MustCopyFlatData[float32](b), Act: act}
	}
	return out, nil
}
