package variants

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var cvaeFamily = Family{
	Name:    "cvae",
	Summary: "conditional VAE: encoder and decoder see the one-hot label; generates chosen digits",
	Paper: "Sohn, Lee & Yan 2015, Learning Structured Output Representation using Deep Conditional Generative Models (NeurIPS); " +
		"conditioning as in Kingma et al. 2014, Semi-Supervised Learning with Deep Generative Models (M2, arXiv:1406.5298)",
	NewConfig: func() Config { return &CVAEConfig{Base: defaultBase()} },
}

// CVAEConfig configures the conditional VAE: q(z | x, y) and p(x | z, y) both
// receive the one-hot label y concatenated to their input, and the prior is
// p(z) = N(0, I), independent of y, as in Kingma et al.'s M2 with observed
// labels (Sohn et al. also allow a learned prior network p(z | x) for
// structured prediction, which vaexp does not build: here y is the condition
// and x the output). The loss is the conditional negative ELBO of
// −log p(x | y): "recon" + "kl", in nats per example. It needs labelled data.
type CVAEConfig struct {
	Base
}

// Validate checks the hyperparameters and that the data has labels.
func (c *CVAEConfig) Validate(d vae.Data) error {
	if err := c.Base.Validate(d); err != nil {
		return err
	}
	if d.Classes < 2 {
		return fmt.Errorf("cvae conditions on labels, but the data has %d classes: use a labelled data set such as mnist", d.Classes)
	}
	return nil
}

// Build constructs the model.
func (c *CVAEConfig) Build(d vae.Data) vae.Model {
	return &CVAE{networks: newNetworks(c.Base, d)}
}

// CVAE is the conditional VAE.
type CVAE struct {
	networks
}

// onehot turns [B] int32 labels into the [B, Classes] conditioning vector.
func (m *CVAE) onehot(labels *graph.Node) *graph.Node {
	if labels == nil {
		panic(errors.New("cvae: the batch has no labels; the conditional VAE needs them"))
	}
	return graph.OneHot(labels, m.classes, dtypes.Float32)
}

// posterior is q(z | x, y).
func (m *CVAE) posterior(scope *model.Scope, x, y *graph.Node) vae.Gaussian {
	return vae.GaussianFromParams(m.encode(scope, x, y, 2*m.LatentDim))
}

// Loss is the conditional negative ELBO: recon + kl.
func (m *CVAE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	y := m.onehot(b.Labels)
	q := m.posterior(scope, b.X, y)
	recon := m.reconNLL(scope, b.X, m.decode(scope, q.Sample(scope), y))
	kl := vae.KLStdNormal(q)
	return vae.Loss{
		Terms: []vae.Term{{Name: "recon", Value: recon, Weight: 1}, {Name: "kl", Value: kl, Weight: 1}},
		NELBO: graph.Add(recon, kl),
	}
}

// Decode returns the pixel means of p(x | z, y) for codes z ([n, LatentDim])
// and labels ([n] int32): the same codes with different labels give the same
// "style" of different digits.
func (m *CVAE) Decode(scope *model.Scope, z, labels *graph.Node) *graph.Node {
	return m.mean(m.decode(scope, z, m.onehot(labels)))
}

// Generate decodes codes drawn from the prior N(0, I) with the given labels
// ([n] int32); nil labels cycle through the classes 0, 1, ...
func (m *CVAE) Generate(scope *model.Scope, g *graph.Graph, n int, labels *graph.Node) *graph.Node {
	if labels == nil {
		labels = graph.ConvertDType(graph.ModScalar(graph.Iota(g, shapes.Make(dtypes.Int32, n), 0), m.classes), dtypes.Int32)
	}
	z := scope.RandomNormal(g, shapes.Make(dtypes.Float32, n, m.LatentDim))
	return m.Decode(scope, z, labels)
}

// Reconstruct decodes the posterior mean with each example's own label.
func (m *CVAE) Reconstruct(scope *model.Scope, b vae.Batch) *graph.Node {
	y := m.onehot(b.Labels)
	return m.mean(m.decode(scope, m.posterior(scope, b.X, y).Mean, y))
}

// Posterior is q(z | x, y), for per-dimension KL and active units.
func (m *CVAE) Posterior(scope *model.Scope, b vae.Batch) vae.Gaussian {
	return m.posterior(scope, b.X, m.onehot(b.Labels))
}

// Encode returns the posterior mean of q(z | x, y).
func (m *CVAE) Encode(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.posterior(scope, b.X, m.onehot(b.Labels)).Mean
}

// LogLikelihood is the k-sample IWAE estimate of the conditional
// log p(x | y) (not log p(x): knowing the label is worth at most
// log(Classes) ≈ 2.3 nats on MNIST, which a comparison with unconditional
// families must allow for).
func (m *CVAE) LogLikelihood(scope *model.Scope, b vae.Batch, k int) *graph.Node {
	y := m.onehot(b.Labels)
	q := m.posterior(scope, b.X, y)
	z := q.SampleN(scope, k) // [k, B, L]
	batch := b.Size()
	yk := graph.Reshape(graph.BroadcastToDims(graph.InsertAxes(y, 0), k, batch, m.classes), k*batch, m.classes)
	out := m.decode(scope, graph.Reshape(z, k*batch, m.LatentDim), yk)
	xk := graph.Reshape(graph.BroadcastToDims(graph.InsertAxes(b.X, 0), append([]int{k}, b.X.Shape().Dimensions...)...),
		append([]int{k * batch}, b.X.Shape().Dimensions[1:]...)...)
	logPxz := graph.Reshape(graph.Neg(m.reconNLL(scope, xk, out)), k, batch)
	logW := graph.Sub(graph.Add(logPxz, vae.StdNormalLogDensity(z)), q.LogDensity(z))
	return vae.LogMeanExp(logW, 0)
}
