package variants

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var ladderFamily = Family{
	Name:      "ladder-vae",
	Summary:   "ladder VAE: stochastic layers z1…zL, top-down inference by precision-weighted Gaussians, KL per layer, warm-up and free bits",
	Paper:     "Sønderby, Raiko, Maaløe, Sønderby & Winther 2016, Ladder Variational Autoencoders (arXiv:1602.02282)",
	NewConfig: func() Config { return defaultLadderConfig() },
}

// LadderConfig configures the ladder VAE of Sønderby et al. (2016): stochastic
// layers z1 (latent_dim, read by the decoder) … zL (upper_latent_dims, bottom to
// top). A deterministic bottom-up pass gives each layer a Gaussian "likelihood"
// N(μ̂ᵢ, σ̂ᵢ²); the top-down pass samples z_L ~ q(z_L|x) = N(μ̂_L, σ̂_L²) and,
// going down, combines each layer's generative conditional p(zᵢ|zᵢ₊₁) with
// its bottom-up Gaussian by precision weighting ([PrecisionWeighted]) into
// q(zᵢ|zᵢ₊₁, x). The generative model is p(z_L) = N(0, I), p(zᵢ|zᵢ₊₁) with
// the same parameters as the top-down pass, and p(x|z1).
//
// The loss terms, per example, in nats: "recon" (−log p(x|z1), one sample),
// "kl1" … "klL" (the true KL of each layer: analytic KL(q(zᵢ|·) ‖ p(zᵢ|zᵢ₊₁))
// given the sampled zᵢ₊₁, and KL(q(z_L|x) ‖ N(0, I)) at the top; recorded with
// weight 0) and "kl_opt", the KL part of the optimized objective,
// β(t)·Σᵢ max(KLᵢ, λ): β(t) rises linearly from 0 to 1 over warmup_steps
// (recorded as "kl_weight") and λ = free_bits. With free_bits > 0 each
// layer's KL is averaged over the batch before the max (Kingma et al. 2016),
// so kl_opt is a batch-level scalar. NELBO = recon + Σᵢ KLᵢ always.
type LadderConfig struct {
	Base
	UpperDims    []int   `param:"upper_latent_dims" range:"sizes >= 1, at least one" help:"sizes of the stochastic layers above z1 (z2 … zL, bottom to top); latent_dim is z1"`
	LadderHidden int     `param:"ladder_hidden" range:">= 1" help:"width of the deterministic layer between consecutive stochastic layers, bottom-up and top-down"`
	WarmupSteps  int     `param:"warmup_steps" range:">= 0" help:"steps over which the KL weight rises linearly from 0 to 1 (0: weight 1 from the start)"`
	FreeBits     float64 `param:"free_bits" range:">= 0" help:"λ in nats per layer: the optimized KL of each layer is max(batch-mean KL, λ); 0 disables"`
	BatchNorm    bool    `param:"batch_norm" range:"true|false" help:"batch normalization before each ReLU of the ladder's deterministic layers, bottom-up and top-down (Sønderby et al. normalize every deterministic layer)"`
}

// defaultLadderConfig is the paper's MNIST ladder cut to two stochastic
// layers: 784-512-256 deterministic, z1 = 64, z2 = 32.
func defaultLadderConfig() *LadderConfig {
	b := defaultBase()
	b.LatentDim = 64
	b.Hidden = []int{512}
	return &LadderConfig{Base: b, UpperDims: []int{32}, LadderHidden: 256, WarmupSteps: 2000}
}

// Validate checks the hyperparameters.
func (c *LadderConfig) Validate(d vae.Data) error {
	if err := c.Base.Validate(d); err != nil {
		return err
	}
	if len(c.UpperDims) == 0 {
		return fmt.Errorf("upper_latent_dims is empty: give at least one layer above z1 (e.g. 32)")
	}
	if err := checkPositive("upper_latent_dims", c.UpperDims, "size"); err != nil {
		return err
	}
	if c.LadderHidden < 1 {
		return fmt.Errorf("ladder_hidden=%d: must be >= 1", c.LadderHidden)
	}
	if c.WarmupSteps < 0 {
		return fmt.Errorf("warmup_steps=%d: must be >= 0", c.WarmupSteps)
	}
	if !(c.FreeBits >= 0) {
		return fmt.Errorf("free_bits=%g: must be >= 0", c.FreeBits)
	}
	return nil
}

// Build constructs the model.
func (c *LadderConfig) Build(d vae.Data) vae.Model {
	return &LadderVAE{networks: newNetworks(c.Base, d), cfg: *c}
}

// LadderVAE is the ladder variational autoencoder; see [LadderConfig].
type LadderVAE struct {
	networks
	cfg LadderConfig
}

// PrecisionWeighted combines two diagonal Gaussians over the same variable as
// their normalized product: precision σ⁻² = σa⁻² + σb⁻² and mean
// μ = (μa·σa⁻² + μb·σb⁻²)·σ², computed stably in log-variance form as
// log σ² = log σa² − softplus(log σa² − log σb²) and
// μ = sigmoid(log σb² − log σa²)·μa + sigmoid(log σa² − log σb²)·μb.
func PrecisionWeighted(a, b vae.Gaussian) vae.Gaussian {
	diff := graph.Sub(a.LogVar, b.LogVar)
	wa := graph.Logistic(graph.Neg(diff)) // σb² / (σa² + σb²)
	wb := graph.Logistic(diff)
	return vae.Gaussian{
		Mean:   graph.Add(graph.Mul(wa, a.Mean), graph.Mul(wb, b.Mean)),
		LogVar: graph.Sub(a.LogVar, graph.Softplus(diff)),
	}
}

// dims lists the stochastic layers' sizes, z1 first.
func (m *LadderVAE) dims() []int { return append([]int{m.LatentDim}, m.cfg.UpperDims...) }

// bottomUp returns each layer's bottom-up Gaussian N(μ̂ᵢ, σ̂ᵢ²), z1's first.
func (m *LadderVAE) bottomUp(scope *model.Scope, x *graph.Node) []vae.Gaussian {
	init := vae.Init(m.Init)
	s := scope.At("bottom_up")
	h := activation.Relu(m.normalize(s.At("layer_1"), m.encode(scope, x, nil, m.cfg.LadderHidden)))
	var out []vae.Gaussian
	for i, d := range m.dims() {
		if i > 0 {
			l := s.At("layer_%d", i+1)
			h = activation.Relu(m.normalize(l, vae.Dense(l, h, m.cfg.LadderHidden, init)))
		}
		out = append(out, vae.GaussianFromParams(vae.Dense(s.At("head_%d", i+1), h, 2*d, init)))
	}
	return out
}

// normalize batch-normalizes a deterministic layer's pre-activations when
// batch_norm is set (under scope/batch_normalization; in evaluation graphs
// with the running averages); otherwise it returns them unchanged.
func (m *LadderVAE) normalize(scope *model.Scope, x *graph.Node) *graph.Node {
	if !m.cfg.BatchNorm {
		return x
	}
	return norm.BatchNorm(scope, x, -1).UseBackendInference(false).Done() // the Go backend has no BatchNorm ops
}

// prior is the generative conditional p(zᵢ | zᵢ₊₁) for layer i (1-based, < L).
func (m *LadderVAE) prior(scope *model.Scope, i int, above *graph.Node) vae.Gaussian {
	init := vae.Init(m.Init)
	l := scope.At("top_down").At("layer_%d", i)
	h := activation.Relu(m.normalize(l, vae.Dense(l, above, m.cfg.LadderHidden, init)))
	s := scope.At("top_down")
	return vae.GaussianFromParams(vae.Dense(s.At("head_%d", i), h, 2*m.dims()[i-1], init))
}

// ladderPass is one top-down pass: per layer (z1 first) the code, the
// posterior and the conditional prior (zero Gaussian at the top: N(0, I)).
type ladderPass struct {
	z      []*graph.Node
	q      []vae.Gaussian
	p      []vae.Gaussian // p[L-1] is unused: the top prior is N(0, I)
	layers int
}

// topDown runs the top-down pass from the bottom-up Gaussians; pick chooses
// each code from its posterior (a sample, or the mean).
func (m *LadderVAE) topDown(scope *model.Scope, bu []vae.Gaussian, pick func(vae.Gaussian) *graph.Node) ladderPass {
	l := len(bu)
	pass := ladderPass{z: make([]*graph.Node, l), q: make([]vae.Gaussian, l), p: make([]vae.Gaussian, l), layers: l}
	pass.q[l-1] = bu[l-1]
	pass.z[l-1] = pick(bu[l-1])
	for i := l - 2; i >= 0; i-- {
		pass.p[i] = m.prior(scope, i+1, pass.z[i+1])
		pass.q[i] = PrecisionWeighted(bu[i], pass.p[i])
		pass.z[i] = pick(pass.q[i])
	}
	return pass
}

// kls are the per-layer KL divergences of a pass, [B] each, z1's first.
func (pass ladderPass) kls() []*graph.Node {
	out := make([]*graph.Node, pass.layers)
	for i := range out {
		if i == pass.layers-1 {
			out[i] = vae.KLStdNormal(pass.q[i])
		} else {
			out[i] = vae.KLGaussians(pass.q[i], pass.p[i])
		}
	}
	return out
}

// Loss is recon + kl_opt (warm-up and free bits), with the true KL of each
// layer recorded and NELBO = recon + Σ KLᵢ.
func (m *LadderVAE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	g := b.X.Graph()
	pass := m.topDown(scope, m.bottomUp(scope, b.X), func(q vae.Gaussian) *graph.Node { return q.Sample(scope) })
	recon := m.reconNLL(scope, b.X, m.decode(scope, pass.z[0], nil))
	kls := pass.kls()

	weight := vae.LinearRamp(vae.GlobalStep(scope, g), 0, 1, m.cfg.WarmupSteps)
	terms := []vae.Term{{Name: "recon", Value: recon, Weight: 1}}
	nelbo := recon
	var klOpt *graph.Node
	for i, kl := range kls {
		terms = append(terms, vae.Term{Name: fmt.Sprintf("kl%d", i+1), Value: kl, Weight: 0})
		nelbo = graph.Add(nelbo, kl)
		opt := kl
		if m.cfg.FreeBits > 0 {
			opt = graph.MaxScalar(graph.ReduceAllMean(kl), m.cfg.FreeBits)
		}
		if klOpt == nil {
			klOpt = opt
		} else {
			klOpt = graph.Add(klOpt, opt)
		}
	}
	terms = append(terms,
		vae.Term{Name: "kl_opt", Value: graph.Mul(weight, klOpt), Weight: 1},
		vae.Term{Name: "kl_weight", Value: weight, Weight: 0},
	)
	return vae.Loss{Terms: terms, NELBO: nelbo}
}

// Generate samples z_L ~ N(0, I), each zᵢ ~ p(zᵢ | zᵢ₊₁), and decodes z1.
func (m *LadderVAE) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	dims := m.dims()
	z := scope.RandomNormal(g, shapes.Make(dtypes.Float32, n, dims[len(dims)-1]))
	for i := len(dims) - 1; i >= 1; i-- {
		z = m.prior(scope, i, z).Sample(scope)
	}
	return m.mean(m.decode(scope, z, nil))
}

// Reconstruct decodes z1's posterior mean, the top-down pass following the means.
func (m *LadderVAE) Reconstruct(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.mean(m.decode(scope, m.Encode(scope, b), nil))
}

// Encode returns z1's posterior mean, the top-down pass following the means, [B, latent_dim].
func (m *LadderVAE) Encode(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.EncodeLayers(scope, b)[0]
}

// EncodeLayers returns every layer's posterior mean, z1 first, the top-down
// pass following the means (for active units per layer).
func (m *LadderVAE) EncodeLayers(scope *model.Scope, b vae.Batch) []*graph.Node {
	return m.topDown(scope, m.bottomUp(scope, b.X), func(q vae.Gaussian) *graph.Node { return q.Mean }).z
}

// LogLikelihood is the k-sample IWAE estimate of log p(x) for the hierarchy:
// each sample draws every layer top-down from q, and its log-weight is
// log p(x|z1) + log p(z_L) + Σᵢ log p(zᵢ|zᵢ₊₁) − Σᵢ log q(zᵢ|zᵢ₊₁, x).
func (m *LadderVAE) LogLikelihood(scope *model.Scope, b vae.Batch, k int) *graph.Node {
	batch := b.Size()
	tile := func(n *graph.Node) *graph.Node { // [B, ...] → [k·B, ...], sample-major
		dims := n.Shape().Dimensions
		rep := graph.BroadcastToDims(graph.InsertAxes(n, 0), append([]int{k}, dims...)...)
		return graph.Reshape(rep, append([]int{k * batch}, dims[1:]...)...)
	}
	bu := m.bottomUp(scope, b.X)
	for i := range bu {
		bu[i] = vae.Gaussian{Mean: tile(bu[i].Mean), LogVar: tile(bu[i].LogVar)}
	}
	pass := m.topDown(scope, bu, func(q vae.Gaussian) *graph.Node { return q.Sample(scope) })
	logW := graph.Neg(m.reconNLL(scope, tile(b.X), m.decode(scope, pass.z[0], nil)))
	for i := 0; i < pass.layers; i++ {
		logP := vae.StdNormalLogDensity(pass.z[i])
		if i < pass.layers-1 {
			logP = pass.p[i].LogDensity(pass.z[i])
		}
		logW = graph.Add(logW, graph.Sub(logP, pass.q[i].LogDensity(pass.z[i])))
	}
	return vae.LogMeanExp(graph.Reshape(logW, k, batch), 0)
}
