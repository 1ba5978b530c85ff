package experiments

import (
	"context"
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

// Examples are labelled examples of a run's data set as float32 values: what
// notebooks encode, reconstruct and draw.
type Examples struct {
	// Images holds one slice of Height·Width·Channels values in [0, 1] per example.
	Images [][]float32
	// Labels holds each example's class (0..9 for MNIST).
	Labels []int
}

// Len is the number of examples.
func (e Examples) Len() int { return len(e.Images) }

// Examples returns the first n examples (n <= 0: all) of the run's split
// "train", "val" or "test", preprocessed as the run saw them: the training
// split is the run's (after its validation split and --limit), and a binarized
// run's examples are binarized the way its evaluation binarizes them.
func (t *Trained) Examples(split string, n int) (Examples, error) {
	set, err := t.dataSet(split, n)
	if err != nil {
		return Examples{}, err
	}
	idx := make([]int, set.len())
	for i := range idx {
		idx[i] = i
	}
	b := set.batch(idx, "binarize-"+split, 0)
	ex := Examples{Images: images(b.Inputs[0]), Labels: make([]int, len(idx))}
	for i, l := range tensors.MustCopyFlatData[int32](b.Inputs[1]) {
		ex.Labels[i] = int(l)
	}
	return ex, nil
}

// Evaluate returns the mean of each loss term over the first n examples
// (n <= 0: all) of a split, with the model in evaluation mode: the same
// "loss", "nelbo" and per-term values a run records as test/… at its end.
// Comparing "train" with "test" measures the generalization gap.
func (t *Trained) Evaluate(split string, n int) (map[string]float64, error) {
	set, err := t.dataSet(split, n)
	if err != nil {
		return nil, err
	}
	var out map[string]float64
	err = catch(func() error {
		var err error
		out, err = newEvaluator(context.Background(), t.Backend, t.Store, t.Model).evaluate(set, min(t.Spec.Eval.BatchSize, set.len()), "binarize-"+split)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("run %d: evaluate on %s: %w", t.RunID, split, err)
	}
	return out, nil
}

// CanEncode reports whether the run's family has an inference network (see [Trained.Encode]).
func (t *Trained) CanEncode() bool {
	_, ok := t.Model.(vae.Encoder)
	return ok
}

// Encode returns each example's code, [n][LatentDim] (the posterior mean for
// VAEs, the code for autoencoders; see vae.Encoder).
func (t *Trained) Encode(ex Examples) ([][]float32, error) {
	enc, ok := t.Model.(vae.Encoder)
	if !ok {
		return nil, fmt.Errorf("run %d: family %q has no encoder (it cannot map examples to codes)", t.RunID, t.Spec.Family)
	}
	return t.perExample("encode", ex, func(scope *model.Scope, b vae.Batch) *graph.Node {
		return enc.Encode(scope, b)
	})
}

// CanReconstruct reports whether the run's family reconstructs examples (see [Trained.Reconstruct]).
func (t *Trained) CanReconstruct() bool {
	_, ok := t.Model.(vae.Reconstructor)
	return ok
}

// Reconstruct returns each example's reconstruction (pixel means, decoded
// deterministically from the posterior mean; see vae.Reconstructor).
func (t *Trained) Reconstruct(ex Examples) ([][]float32, error) {
	rc, ok := t.Model.(vae.Reconstructor)
	if !ok {
		return nil, fmt.Errorf("run %d: family %q does not reconstruct (it has no encoder)", t.RunID, t.Spec.Family)
	}
	return t.perExample("reconstruct", ex, func(scope *model.Scope, b vae.Batch) *graph.Node {
		return rc.Reconstruct(scope, b)
	})
}

// CanDecode reports whether the run's family decodes given codes (see [Trained.Decode]).
func (t *Trained) CanDecode() bool {
	_, ok := t.Model.(vae.Decoder)
	return ok
}

// Decode returns the pixel means the decoder gives for codes ([n][LatentDim],
// e.g. points on a line between two encoded examples). labels selects the
// class for conditional families (nil: class 0 for all); others ignore it.
func (t *Trained) Decode(codes [][]float32, labels []int) ([][]float32, error) {
	dec, ok := t.Model.(vae.Decoder)
	if !ok {
		return nil, fmt.Errorf("run %d: family %q cannot decode given codes (its model has no Decode method)", t.RunID, t.Spec.Family)
	}
	if len(codes) == 0 {
		return nil, nil
	}
	if labels != nil && len(labels) != len(codes) {
		return nil, fmt.Errorf("decode: %d labels for %d codes", len(labels), len(codes))
	}
	dim := len(codes[0])
	for i, c := range codes {
		if len(c) != dim {
			return nil, fmt.Errorf("decode: code %d has %d values, code 0 has %d", i, len(c), dim)
		}
	}
	return t.batched("decode", len(codes), func(scope *model.Scope, z, y *graph.Node) *graph.Node {
		return dec.Decode(scope, z, y)
	}, func(idx []int) []any {
		z := make([]float32, 0, len(idx)*dim)
		y := make([]int32, len(idx))
		for k, i := range idx {
			z = append(z, codes[i]...)
			if labels != nil {
				y[k] = int32(labels[i])
			}
		}
		return []any{tensors.FromFlatDataAndDimensions(z, len(idx), dim), tensors.FromFlatDataAndDimensions(y, len(idx))}
	})
}

// perExample runs a model method over examples in batches and returns one
// row of values per example.
func (t *Trained) perExample(what string, ex Examples, fn func(scope *model.Scope, b vae.Batch) *graph.Node) ([][]float32, error) {
	return t.perExampleBy(what, ex, t.Spec.Eval.BatchSize, fn)
}

// perExampleBy is [Trained.perExample] in batches of at most batchSize examples.
func (t *Trained) perExampleBy(what string, ex Examples, batchSize int, fn func(scope *model.Scope, b vae.Batch) *graph.Node) ([][]float32, error) {
	if len(ex.Labels) != len(ex.Images) {
		return nil, fmt.Errorf("%s: %d labels for %d images", what, len(ex.Labels), len(ex.Images))
	}
	sh := t.Data.Shape
	for i, img := range ex.Images {
		if len(img) != sh.Size() {
			return nil, fmt.Errorf("%s: example %d has %d values, want %s", what, i, len(img), sh)
		}
	}
	return t.batchedBy(what, ex.Len(), batchSize, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		return fn(scope, vae.Batch{X: x, Labels: y})
	}, func(idx []int) []any {
		x := make([]float32, 0, len(idx)*sh.Size())
		y := make([]int32, len(idx))
		for k, i := range idx {
			x = append(x, ex.Images[i]...)
			y[k] = int32(ex.Labels[i])
		}
		return []any{tensors.FromFlatDataAndDimensions(x, sh.BatchDims(len(idx))...), tensors.FromFlatDataAndDimensions(y, len(idx))}
	})
}

// batched runs graphFn (in evaluation mode, in the model's scope) over n
// items in batches of the run's evaluation batch size. inputs builds a
// batch's two input tensors from item indices; the last batch is padded by
// repeating items so every call has one shape, and the padding's outputs are
// dropped. It returns the first output split into one row per item.
func (t *Trained) batched(what string, n int, graphFn func(scope *model.Scope, a, b *graph.Node) *graph.Node,
	inputs func(idx []int) []any) (rows [][]float32, err error) {
	return t.batchedBy(what, n, t.Spec.Eval.BatchSize, graphFn, inputs)
}

// batchedBy is [Trained.batched] in batches of at most batchSize items.
func (t *Trained) batchedBy(what string, n, batchSize int, graphFn func(scope *model.Scope, a, b *graph.Node) *graph.Node,
	inputs func(idx []int) []any) (rows [][]float32, err error) {
	if n == 0 {
		return nil, nil
	}
	bs := max(1, min(batchSize, n))
	err = catch(func() error {
		exec, err := model.NewExec(t.Backend, t.Store, func(scope *model.Scope, a, b *graph.Node) *graph.Node {
			scope.SetTraining(a.Graph(), false)
			return graphFn(scope.At(modelScope), a, b)
		})
		if err != nil {
			return err
		}
		defer exec.Finalize()
		for start := 0; start < n; start += bs {
			valid := min(bs, n-start)
			idx := make([]int, bs)
			for i := range idx {
				idx[i] = start + i%valid
			}
			out, err := exec.Call1(inputs(idx)...)
			if err != nil {
				return err
			}
			rows = append(rows, images(out)[:valid]...)
			_ = out.FinalizeAll()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("run %d: %s: %w", t.RunID, what, err)
	}
	return rows, nil
}

// dataSet loads the run's split as the run loaded it, keeping its first n
// examples (n <= 0: all).
func (t *Trained) dataSet(split string, n int) (*exampleSet, error) {
	r := &runner{spec: t.Spec}
	if err := r.loadData(); err != nil {
		return nil, fmt.Errorf("run %d: %w", t.RunID, err)
	}
	var set *exampleSet
	switch split {
	case "train":
		set = r.train_
	case "val":
		set = r.val
		if set == nil {
			return nil, fmt.Errorf("run %d has no validation split (it was trained with val=0)", t.RunID)
		}
	case "test":
		set = r.test
	default:
		return nil, fmt.Errorf("split %q: use train, val or test", split)
	}
	return set.head(n), nil
}
