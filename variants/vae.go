package variants

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var vaeFamily = Family{
	Name:      "vae",
	Summary:   "standard variational autoencoder: Gaussian posterior, reparameterization, ELBO = recon + KL",
	Paper:     "Kingma & Welling 2014, Auto-Encoding Variational Bayes (arXiv:1312.6114)",
	NewConfig: func() Config { return &VAEConfig{Base: defaultBase()} },
}

// VAEConfig configures the standard VAE of Kingma & Welling (2014): a diagonal
// Gaussian posterior q(z|x), a standard normal prior and the ELBO split into
// "recon" (−log p(x|z), one sample) and "kl" (analytic KL(q ‖ N(0, I))).
type VAEConfig struct {
	Base
}

// Build constructs the model.
func (c *VAEConfig) Build(d vae.Data) vae.Model {
	return &VAE{networks: newNetworks(c.Base, d), beta: 1}
}

// VAE is the standard variational autoencoder; β-weighted variants reuse it.
type VAE struct {
	networks
	beta float64
}

// posterior is q(z | x).
func (m *VAE) posterior(scope *model.Scope, x *graph.Node) vae.Gaussian {
	return vae.GaussianFromParams(m.encode(scope, x, nil, 2*m.LatentDim))
}

// Loss is the negative ELBO: recon + β·kl.
func (m *VAE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	q := m.posterior(scope, b.X)
	z := q.Sample(scope)
	recon := m.reconNLL(scope, b.X, m.decode(scope, z, nil))
	kl := vae.KLStdNormal(q)
	return vae.Loss{
		Terms: []vae.Term{{Name: "recon", Value: recon, Weight: 1}, {Name: "kl", Value: kl, Weight: m.beta}},
		NELBO: graph.Add(recon, kl),
	}
}

// Generate decodes codes drawn from the prior N(0, I).
func (m *VAE) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	z := scope.RandomNormal(g, shapes.Make(dtypes.Float32, n, m.LatentDim))
	return m.mean(m.decode(scope, z, nil))
}

// Reconstruct decodes the posterior mean.
func (m *VAE) Reconstruct(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.mean(m.decode(scope, m.posterior(scope, b.X).Mean, nil))
}

// Posterior is q(z | x), for per-dimension KL and active units.
func (m *VAE) Posterior(scope *model.Scope, b vae.Batch) vae.Gaussian { return m.posterior(scope, b.X) }

// Encode returns the posterior mean.
func (m *VAE) Encode(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.posterior(scope, b.X).Mean
}

// MLPLayers describes the decoder for the fused likelihood estimate
// (vae.BernoulliMLP): the MLP with Bernoulli pixels.
func (m *VAE) MLPLayers() (vae.MLPModel, bool) {
	dec, ok := m.decoderLayers()
	return vae.MLPModel{Decoder: dec}, ok
}

// BottomPosterior is q(z | x) (vae.BernoulliMLP).
func (m *VAE) BottomPosterior(scope *model.Scope, b vae.Batch) vae.Gaussian {
	return m.posterior(scope, b.X)
}

// LogLikelihood is the k-sample IWAE estimate of log p(x):
// log (1/k) Σ p(x|zᵢ) p(zᵢ) / q(zᵢ|x), zᵢ ~ q(z|x).
func (m *VAE) LogLikelihood(scope *model.Scope, b vae.Batch, k int) *graph.Node {
	q := m.posterior(scope, b.X)
	z := q.SampleN(scope, k) // [k, B, L]
	batch := b.Size()
	out := m.decode(scope, graph.Reshape(z, k*batch, m.LatentDim), nil)
	xk := graph.Reshape(graph.BroadcastToDims(graph.InsertAxes(b.X, 0), append([]int{k}, b.X.Shape().Dimensions...)...),
		append([]int{k * batch}, b.X.Shape().Dimensions[1:]...)...)
	logPxz := graph.Reshape(graph.Neg(m.reconNLL(scope, xk, out)), k, batch)
	logW := graph.Sub(graph.Add(logPxz, vae.StdNormalLogDensity(z)), q.LogDensity(z))
	return vae.LogMeanExp(logW, 0)
}
