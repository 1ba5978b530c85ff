package variants

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var iwaeFamily = Family{
	Name:      "iwae",
	Summary:   "importance-weighted autoencoder: trained on the k-sample importance-weighted bound (k = 1 is the VAE); one or more stochastic layers, bottom-up inference",
	Paper:     "Burda, Grosse & Salakhutdinov 2016, Importance Weighted Autoencoders (arXiv:1509.00519)",
	NewConfig: func() Config { return defaultIWAEConfig() },
}

// IWAEConfig configures the importance-weighted autoencoder of Burda et al.
// (2016). Its objective is the k-sample importance-weighted bound
//
//	L_k(x) = E[log (1/k) Σᵢ wᵢ],  wᵢ = p(x, zᵢ) / q(zᵢ | x),  zᵢ ~ q(z | x),
//
// which equals the VAE's ELBO at k = 1 and rises to log p(x) as k grows; the
// same estimate with a large k (5000 in the paper) is its test log-likelihood.
//
// The stochastic layers are z1 (latent_dim, read by the decoder) … zL
// (upper_latent_dims, bottom to top), as in the paper's Section 5:
// inference is bottom-up, q(z1|x) q(z2|z1) … q(zL|zL−1), and the generative
// model top-down, p(zL) = N(0, I), p(zᵢ|zᵢ₊₁), p(x|z1), every conditional a
// diagonal Gaussian whose mean and log-variance an MLP of upper_hidden widths
// computes (mirrored for p). The defaults are the paper's one-layer MNIST
// model, 784-200-200-50 with tanh; its two-layer model is latent_dim=100,
// upper_latent_dims=50, upper_hidden=100,100.
//
// The loss terms, per example, in nats: "bound" = −L_k (the optimized total),
// and as diagnostics (weight 0) the average over the k samples of "recon"
// (−log p(x|zᵢ)) and "kl" (log q(zᵢ|x) − log p(zᵢ), a one-sample Monte-Carlo
// KL per sample rather than the analytic one, so that k = 1 is exactly the
// paper's VAE); NELBO = recon + kl, the k-sample average ELBO.
//
// Departures from the paper: weights start from PyTorch's U(±1/√fan_in)
// (the paper does not give its initialization); its 3,280 epochs are the
// run's budget to choose (the learning-rate schedule follows the epochs run).
type IWAEConfig struct {
	Base
	K           int   `param:"k" range:">= 1" help:"importance samples per example in the training bound (1: the VAE's one-sample ELBO)"`
	UpperDims   []int `param:"upper_latent_dims" range:"sizes >= 1, none for one stochastic layer" help:"sizes of the stochastic layers above z1 (z2 … zL, bottom to top); latent_dim is z1"`
	UpperHidden []int `param:"upper_hidden" range:"widths >= 1" help:"hidden widths of the MLPs between consecutive stochastic layers, q(zᵢ₊₁|zᵢ) and (mirrored) p(zᵢ|zᵢ₊₁)"`
}

// defaultIWAEConfig is the paper's one-layer MNIST model at k = 5.
func defaultIWAEConfig() *IWAEConfig {
	b := defaultBase()
	b.LatentDim = 50
	b.Hidden = []int{200, 200}
	b.Activation = "tanh"
	return &IWAEConfig{Base: b, K: 5, UpperHidden: []int{100, 100}}
}

// Validate checks the hyperparameters.
func (c *IWAEConfig) Validate(d vae.Data) error {
	if err := c.Base.Validate(d); err != nil {
		return err
	}
	if c.K < 1 {
		return fmt.Errorf("k=%d: must be >= 1 (1 trains the VAE's ELBO, e.g. 5 or 50 for the IWAE)", c.K)
	}
	if err := checkPositive("upper_latent_dims", c.UpperDims, "size"); err != nil {
		return err
	}
	if err := checkPositive("upper_hidden", c.UpperHidden, "width"); err != nil {
		return err
	}
	return nil
}

// Training is the paper's: Adam(1e-3, β = 0.9, 0.999) with ε = 1e-4 and the
// learning rate divided by 10^(1/7) after 1, 3, 9, … epochs ("burda2016").
func (c *IWAEConfig) Training() Training {
	t := DefaultTraining
	t.Epsilon = 1e-4
	t.LRSchedule = "burda2016"
	return t
}

// Build constructs the model: with one stochastic layer it also offers its
// Gaussian posterior q(z|x) (per-dimension KL against the N(0, I) prior).
func (c *IWAEConfig) Build(d vae.Data) vae.Model {
	m := &IWAE{networks: newNetworks(c.Base, d), cfg: *c}
	if len(c.UpperDims) == 0 {
		return &singleIWAE{m}
	}
	return m
}

// IWAE is the importance-weighted autoencoder; see [IWAEConfig].
type IWAE struct {
	networks
	cfg IWAEConfig
}

// singleIWAE is an IWAE with one stochastic layer, whose prior is N(0, I).
type singleIWAE struct{ *IWAE }

// Posterior is q(z | x), for per-dimension KL and active units.
func (m *singleIWAE) Posterior(scope *model.Scope, b vae.Batch) vae.Gaussian {
	return m.posterior(scope, b.X)
}

// MLPLayers describes the networks for the fused likelihood estimate
// (vae.BernoulliMLP): the decoder and, per layer above z1, the MLPs of
// q(zᵢ₊₁ | zᵢ) (up) and p(zᵢ | zᵢ₊₁) (down), as up and down build them.
func (m *IWAE) MLPLayers() (vae.MLPModel, bool) {
	dec, ok := m.decoderLayers()
	out := vae.MLPModel{Decoder: dec}
	for i := 1; i < len(m.dims()); i++ {
		out.Upper = append(out.Upper, vae.UpperLayer{
			Up:   mlpLayers(fmt.Sprintf("encoder_%d", i+1), len(m.cfg.UpperHidden), m.act()),
			Down: mlpLayers(fmt.Sprintf("decoder_%d", i), len(m.cfg.UpperHidden), m.act()),
		})
	}
	return out, ok
}

// BottomPosterior is q(z1 | x) (vae.BernoulliMLP).
func (m *IWAE) BottomPosterior(scope *model.Scope, b vae.Batch) vae.Gaussian {
	return m.posterior(scope, b.X)
}

// dims lists the stochastic layers' sizes, z1 first.
func (m *IWAE) dims() []int { return append([]int{m.LatentDim}, m.cfg.UpperDims...) }

// posterior is q(z1 | x).
func (m *IWAE) posterior(scope *model.Scope, x *graph.Node) vae.Gaussian {
	return vae.GaussianFromParams(m.encode(scope, x, nil, 2*m.LatentDim))
}

// up is q(zᵢ₊₁ | zᵢ), for layer i (1-based, < L).
func (m *IWAE) up(scope *model.Scope, i int, z *graph.Node) vae.Gaussian {
	out := vae.MLPAct(scope.At("encoder_%d", i+1), z, m.cfg.UpperHidden, 2*m.dims()[i], vae.Init(m.Init), m.act())
	return vae.GaussianFromParams(out)
}

// down is p(zᵢ | zᵢ₊₁), for layer i (1-based, < L).
func (m *IWAE) down(scope *model.Scope, i int, z *graph.Node) vae.Gaussian {
	hidden := make([]int, len(m.cfg.UpperHidden))
	for j, h := range m.cfg.UpperHidden {
		hidden[len(hidden)-1-j] = h
	}
	out := vae.MLPAct(scope.At("decoder_%d", i), z, hidden, 2*m.dims()[i-1], vae.Init(m.Init), m.act())
	return vae.GaussianFromParams(out)
}

// logWeights draws k samples of every layer from q for each example of x
// ([B, ...]) and returns the parts of each log-weight log wᵢ = logPx − logQP,
// both [k, B] (sample-major): logPx = log p(x|z1) and logQP = log q(z|x) −
// log p(z) summed over the layers.
func (m *IWAE) logWeights(scope *model.Scope, x *graph.Node, k int) (logPx, logQP *graph.Node) {
	batch := x.Shape().Dimensions[0]
	dims := m.dims()
	q1 := m.posterior(scope, x)
	z := q1.SampleN(scope, k) // [k, B, d1]
	logQ := q1.LogDensity(z)  // [k, B]
	zs := []*graph.Node{graph.Reshape(z, k*batch, dims[0])}
	for i := 1; i < len(dims); i++ {
		q := m.up(scope, i, zs[i-1])
		zi := q.Sample(scope)
		logQ = graph.Add(logQ, graph.Reshape(q.LogDensity(zi), k, batch))
		zs = append(zs, zi)
	}
	logP := vae.StdNormalLogDensity(zs[len(zs)-1])
	for i := len(dims) - 1; i >= 1; i-- {
		logP = graph.Add(logP, m.down(scope, i, zs[i]).LogDensity(zs[i-1]))
	}
	logQP = graph.Sub(logQ, graph.Reshape(logP, k, batch))
	logPx = graph.Reshape(graph.Neg(m.reconNLL(scope, tileSamples(x, k), m.decode(scope, zs[0], nil))), k, batch)
	return logPx, logQP
}

// tileSamples repeats x ([B, ...]) k times, sample-major: [k·B, ...].
func tileSamples(x *graph.Node, k int) *graph.Node {
	dims := x.Shape().Dimensions
	rep := graph.BroadcastToDims(graph.InsertAxes(x, 0), append([]int{k}, dims...)...)
	return graph.Reshape(rep, append([]int{k * dims[0]}, dims[1:]...)...)
}

// Loss is the negative k-sample bound, with the k-sample averages of recon
// and kl recorded beside it.
func (m *IWAE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	logPx, logQP := m.logWeights(scope, b.X, m.cfg.K)
	bound := vae.LogMeanExp(graph.Sub(logPx, logQP), 0)
	recon := graph.Neg(graph.ReduceMean(logPx, 0))
	kl := graph.ReduceMean(logQP, 0)
	return vae.Loss{
		Terms: []vae.Term{
			{Name: "bound", Value: graph.Neg(bound), Weight: 1},
			{Name: "recon", Value: recon, Weight: 0},
			{Name: "kl", Value: kl, Weight: 0},
		},
		NELBO: graph.Add(recon, kl),
	}
}

// LogLikelihood is the k-sample importance-weighted estimate of log p(x),
// the training bound with k samples.
func (m *IWAE) LogLikelihood(scope *model.Scope, b vae.Batch, k int) *graph.Node {
	logPx, logQP := m.logWeights(scope, b.X, k)
	return vae.LogMeanExp(graph.Sub(logPx, logQP), 0)
}

// Generate samples zL ~ N(0, I), each zᵢ ~ p(zᵢ | zᵢ₊₁), and decodes z1.
func (m *IWAE) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	dims := m.dims()
	z := scope.RandomNormal(g, shapes.Make(dtypes.Float32, n, dims[len(dims)-1]))
	for i := len(dims) - 1; i >= 1; i-- {
		z = m.down(scope, i, z).Sample(scope)
	}
	return m.mean(m.decode(scope, z, nil))
}

// Encode returns z1's posterior mean, [B, latent_dim].
func (m *IWAE) Encode(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.posterior(scope, b.X).Mean
}

// EncodeLayers returns every layer's posterior mean, z1 first, each layer's
// given the mean of the one below (for active units per layer).
func (m *IWAE) EncodeLayers(scope *model.Scope, b vae.Batch) []*graph.Node {
	z := []*graph.Node{m.posterior(scope, b.X).Mean}
	for i := 1; i < len(m.dims()); i++ {
		z = append(z, m.up(scope, i, z[i-1]).Mean)
	}
	return z
}

// Reconstruct decodes z1's posterior mean.
func (m *IWAE) Reconstruct(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.mean(m.decode(scope, m.Encode(scope, b), nil))
}
