package vae

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
)

// Batch is one minibatch inside a graph.
type Batch struct {
	// X holds the examples, [B, Height, Width, Channels] or, for sequences,
	// [B, Frames, Height, Width, Channels]; float32 (in [0, 1] unless the
	// data set is Real).
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

// Total is the scalar that is minimized: the batch mean of the weighted
// total of [Loss.Outputs] ("loss"). It is the one place the weighted sum is
// computed; what is recorded as "loss" is the same per-example sum.
func (l Loss) Total() *graph.Node {
	batch := 1
	for _, t := range l.Terms {
		if t.Value.Rank() > 0 {
			batch = t.Value.Shape().Dimensions[0]
			break
		}
	}
	return graph.ReduceAllMean(l.weightedTotal(batch))
}

// Outputs lists what is recorded of the loss, each value per example
// ([batch]): every term under its name, the weighted total as "loss", and
// "nelbo" when the family defines it. Batch-level (scalar) terms are
// broadcast to every example; terms with extra axes are averaged over them.
func (l Loss) Outputs(batch int) (names []string, values []*graph.Node) {
	for _, t := range l.Terms {
		names, values = append(names, t.Name), append(values, PerExample(t.Value, batch))
	}
	names, values = append(names, "loss"), append(values, l.weightedTotal(batch))
	if l.NELBO != nil {
		names, values = append(names, "nelbo"), append(values, PerExample(l.NELBO, batch))
	}
	return names, values
}

// weightedTotal is Σ weight·term per example; terms of weight 0 are diagnostics.
func (l Loss) weightedTotal(batch int) *graph.Node {
	var total *graph.Node
	for _, t := range l.Terms {
		if t.Weight == 0 {
			continue
		}
		v := PerExample(t.Value, batch)
		if t.Weight != 1 {
			v = graph.MulScalar(v, t.Weight)
		}
		if total == nil {
			total = v
		} else {
			total = graph.Add(total, v)
		}
	}
	if total == nil {
		panic("vae: a loss needs at least one term of non-zero weight")
	}
	return total
}

// PerExample shapes a term as one value per example ([batch]): a scalar is
// broadcast, extra axes are averaged.
func PerExample(v *graph.Node, batch int) *graph.Node {
	switch {
	case v.Rank() == 0:
		return graph.BroadcastToDims(v, batch)
	case v.Rank() > 1:
		axes := make([]int, 0, v.Rank()-1)
		for i := 1; i < v.Rank(); i++ {
			axes = append(axes, i)
		}
		return graph.ReduceMean(v, axes...)
	}
	return v
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

// Model is the contract every vaexp generative model implements: a loss of
// named terms and a way to draw new examples. Everything else a family may
// offer (encoding, reconstruction, decoding given codes, a likelihood
// estimate; for sequences, continuing a prefix and per-step scores) is an
// optional capability — [Encoder], [Reconstructor], [Decoder],
// [LikelihoodEstimator], [Continuer], [StepScorer] — asked for with a type
// assertion, so a GAN or a sequence model fits the same contract as a VAE.
//
// All methods build graph nodes under the given scope (the model's own scope,
// shared by every method so that they see the same variables) and panic on
// graph-building errors, as GoMLX does; the run driver recovers at its
// boundary.
type Model interface {
	// Loss builds the objective for one batch.
	Loss(scope *model.Scope, b Batch) Loss
	// Generate draws n examples from the model, [n, example dims...] (pixel
	// means in [0, 1] for intensity data). labels ([n] int32) selects classes
	// for conditional families and is ignored (may be nil) by the others.
	Generate(scope *model.Scope, g *graph.Graph, n int, labels *graph.Node) *graph.Node
}

// Encoder is implemented by families with an inference network: Encode
// returns each example's code, [B, LatentDim] (the posterior mean for VAEs).
// A sequence family's code is one flat vector per sequence (seq-vae: its
// content code followed by one code per frame), so that a [Decoder] decodes
// any mix of two sequences' codes.
type Encoder interface {
	Encode(scope *model.Scope, b Batch) *graph.Node
}

// LayeredEncoder is implemented by families with several stochastic layers
// (ladder VAE, hierarchical IWAE): EncodeLayers returns each layer's code,
// z1 (the one the decoder reads) first, [B, dᵢ] each — the posterior means,
// each layer's given the means of the layers it is conditioned on — so that
// active units can be counted per layer.
type LayeredEncoder interface {
	EncodeLayers(scope *model.Scope, b Batch) []*graph.Node
}

// PosteriorEncoder is implemented by families with a diagonal Gaussian
// posterior: q(z|x) itself, not only its mean (per-dimension KL, active units).
type PosteriorEncoder interface {
	Posterior(scope *model.Scope, b Batch) Gaussian
}

// Reconstructor is implemented by families that encode and decode: the
// batch encoded and decoded deterministically (posterior mean), shaped like b.X.
type Reconstructor interface {
	Reconstruct(scope *model.Scope, b Batch) *graph.Node
}

// LikelihoodEstimator is implemented by families with a tractable importance
// sampler: LogLikelihood returns the k-sample importance-weighted estimate of
// log p(x) per example ([B], nats), the IWAE bound of Burda et al. (2015).
type LikelihoodEstimator interface {
	LogLikelihood(scope *model.Scope, b Batch, k int) *graph.Node
}

// BernoulliMLP is implemented by families whose likelihood estimate can run
// as one fused CPU computation (package experiments/iwae) instead of a graph:
// diagonal Gaussian conditionals given by MLPs of [Dense] layers, inference
// bottom-up (q(z1 | x), then q(zᵢ₊₁ | zᵢ)), an N(0, I) prior on the top
// layer, and p(x | z1) an MLP whose last output is the logits of Bernoulli
// pixels. MLPLayers describes those networks; ok is false when the
// configuration is not of that form (a conv decoder, a Gaussian likelihood).
// BottomPosterior is q(z1 | x).
type BernoulliMLP interface {
	LikelihoodEstimator
	MLPLayers() (layers MLPModel, ok bool)
	BottomPosterior(scope *model.Scope, b Batch) Gaussian
}

// MLPModel names the networks of a [BernoulliMLP] family.
type MLPModel struct {
	// Decoder is p(x | z1), first layer to last (the logits).
	Decoder []DenseLayer
	// Upper lists the stochastic layers above z1, z2 first: Up computes
	// q(zᵢ₊₁ | zᵢ) and Down p(zᵢ | zᵢ₊₁), each as [means, log-variances].
	Upper []UpperLayer
}

// UpperLayer is one stochastic layer above z1 of an [MLPModel].
type UpperLayer struct {
	Up, Down []DenseLayer
}

// DenseLayer names one [Dense] layer of a network: its scope relative to the
// model's scope (holding "weights" [out, in] and "biases" [out]) and the
// activation applied to its output (activation.TypeNone for the last).
type DenseLayer struct {
	Scope      string
	Activation activation.Type
}

// Decoder is implemented by families that decode given codes: pixel means of
// p(x | z), shaped like n examples, for codes z ([n, LatentDim] as Encode
// returns them, e.g. points between two encoded examples), with labels ([n] int32) for conditional families (others ignore
// them, and they may be nil).
type Decoder interface {
	Decode(scope *model.Scope, z, labels *graph.Node) *graph.Node
}

// Continuer is implemented by sequence families that continue a given
// beginning: Continue reads b.X as each sequence's first frames ([B, t₀, H,
// W, C], t₀ ≥ 1), infers the state they leave the model in, and samples the
// next steps frames from the model, [B, steps, H, W, C]. Each call draws new
// samples, so repeating a prefix gives a forecast distribution. Like
// Generate, it returns pixel means for intensity data (the means are also
// what the model reads back as its next input) and draws of x for Real
// data, observation noise included.
type Continuer interface {
	Continue(scope *model.Scope, b Batch, steps int) *graph.Node
}

// StepScorer is implemented by sequence families whose negative ELBO is a
// sum over time steps: StepNELBO returns each step's share, [B, Frames] in
// nats (reconstruction of x_t plus the KL of step t's latent, one posterior
// sample), whose sum over steps is the sequence's NELBO. A step the model did
// not expect scores high: the per-step anomaly score.
type StepScorer interface {
	StepNELBO(scope *model.Scope, b Batch) *graph.Node
}
