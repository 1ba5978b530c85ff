package vae

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// Shape describes the examples a model is built for.
type Shape struct {
	// Height, Width and Channels of one image ([Height, Width, Channels] per example).
	Height, Width, Channels int
	// Classes is the number of labels (10 for MNIST); 0 when the data set has none.
	Classes int
}

// Size is the number of values in one example.
func (s Shape) Size() int { return s.Height * s.Width * s.Channels }

// MNISTShape is the shape of MNIST digits.
var MNISTShape = Shape{Height: 28, Width: 28, Channels: 1, Classes: 10}

// Batch is one minibatch inside a graph.
type Batch struct {
	// X holds the examples, [B, Height, Width, Channels], float32 in [0, 1].
	X *graph.Node
	// Labels holds the class of each example, [B] int32; nil when unlabeled.
	Labels *graph.Node
}

// Size is the number of examples in the batch.
func (b Batch) Size() int { return b.X.Shape().Dimensions[0] }

// Term is one named part of a loss.
type Term struct {
	// Name is how the term is recorded ("recon", "kl", "tc", ...).
	Name string
	// Value is per example ([B]) or a scalar for batch-level terms.
	Value *graph.Node
	// Weight multiplies Value in the total; 0 marks a diagnostic that is recorded but not optimized.
	Weight float64
}

// AuxObjective is a loss minimized by its own Adam optimizer over the
// variables under Scope (a child of the model's scope), e.g. a discriminator.
// The main objective never updates those variables, and the auxiliary
// objective updates nothing else.
type AuxObjective struct {
	// Scope names the sub-scope holding the variables this objective trains.
	Scope string
	// Loss is the scalar (or per-example, then averaged) objective.
	Loss *graph.Node
	// LearningRate for this objective's Adam.
	LearningRate float64
	// Beta1 and Beta2 for this objective's Adam; 0 means the defaults 0.9 and 0.999.
	Beta1, Beta2 float64
}

// Loss is a family's objective for one batch.
type Loss struct {
	// Terms are recorded separately, in order; the total is their weighted sum.
	Terms []Term
	// NELBO is the per-example negative evidence lower bound in nats, when the family defines one (nil otherwise).
	NELBO *graph.Node
	// Aux lists objectives with their own optimizers (empty for most families).
	Aux []AuxObjective
}

// Total is the weighted sum of the terms, averaged over the batch: the scalar that is minimized.
func (l Loss) Total() *graph.Node {
	var total *graph.Node
	for _, t := range l.Terms {
		if t.Weight == 0 {
			continue
		}
		v := t.Value
		if v.Rank() > 0 {
			v = graph.ReduceAllMean(v)
		}
		if t.Weight != 1 {
			v = graph.MulScalar(v, t.Weight)
		}
		if total == nil {
			total = v
		} else {
			total = graph.Add(total, v)
		}
	}
	return total
}

// Term returns the term with the given name, or nil.
func (l Loss) Term(name string) *Term {
	for i := range l.Terms {
		if l.Terms[i].Name == name {
			return &l.Terms[i]
		}
	}
	return nil
}

// Model is the contract every vaexp family implements. All methods build graph
// nodes under the given scope (the model's own scope, shared by every method so
// that they see the same variables) and panic on graph-building errors, as GoMLX
// does; the run driver recovers at its boundary.
type Model interface {
	// Loss builds the objective for one batch.
	Loss(scope *model.Scope, b Batch) Loss
	// Generate draws n examples from the model, [n, Height, Width, Channels]
	// pixel means in [0, 1]. labels ([n] int32) selects classes for
	// conditional families and is ignored (may be nil) by the others.
	Generate(scope *model.Scope, g *graph.Graph, n int, labels *graph.Node) *graph.Node
	// Reconstruct encodes and decodes the batch deterministically (posterior
	// mean), returning pixel means shaped like b.X.
	Reconstruct(scope *model.Scope, b Batch) *graph.Node
	// Encode returns each example's code, [B, LatentDim] (the posterior mean for VAEs).
	Encode(scope *model.Scope, b Batch) *graph.Node
}

// LikelihoodEstimator is implemented by families with a tractable importance
// sampler: LogLikelihood returns the k-sample importance-weighted estimate of
// log p(x) per example ([B], nats), the IWAE bound of Burda et al. (2015).
type LikelihoodEstimator interface {
	LogLikelihood(scope *model.Scope, b Batch, k int) *graph.Node
}

// Decoder is implemented by families that decode given codes: pixel means of
// p(x | z) for codes z ([n, LatentDim], e.g. points between two encoded
// examples), with labels ([n] int32) for conditional families (others ignore
// them, and they may be nil).
type Decoder interface {
	Decode(scope *model.Scope, z, labels *graph.Node) *graph.Node
}
