package variants

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var vqvaeFamily = Family{
	Name:      "vq-vae",
	Summary:   "vector-quantized autoencoder: nearest-codebook codes, straight-through gradients, codebook + commitment losses (optional EMA codebook)",
	Paper:     "van den Oord, Vinyals & Kavukcuoglu 2017, Neural Discrete Representation Learning (arXiv:1711.00937)",
	NewConfig: func() Config { return defaultVQVAEConfig() },
}

// VQVAEConfig configures the VQ-VAE of van den Oord et al. (2017). The
// encoder emits z_e with latent_dim values per image, read as
// latent_dim/embedding_dim code vectors of embedding_dim values each; each is
// replaced by its nearest codebook entry e (Euclidean), and the decoder reads
// the quantized z_q. Gradients reach the encoder by the straight-through
// estimator z = z_e + sg[z_q − z_e].
//
// The loss terms, per example:
//   - "recon": −log p(x | z_q), nats;
//   - "codebook": ‖sg[z_e] − e‖² summed over the code vectors (squared
//     Euclidean distance, not nats); it moves the codebook only. With ema=true
//     it is dropped and the codebook follows exponential moving averages of the
//     encoder outputs assigned to each code (paper, appendix A.1);
//   - "commit": ‖z_e − sg[e]‖² (the same distance), weighted by β = commitment;
//     it moves the encoder only.
//
// Recorded diagnostics (weight 0): "perplexity" of the batch's code usage
// (exp of its entropy, 1 … codebook_size), "dead_codes" (codes whose moving
// average usage fell below 1% of a uniform share) and "rate"
// (−log p(codes) in nats under the fitted prior below).
//
// Sampling uses a fitted categorical prior: a non-trainable moving average
// (decay 0.99, training steps only) of how often each code is chosen at each
// position; Generate draws each position independently from it. The paper's
// PixelCNN prior is not implemented.
//
// There is no NELBO: q(z|x) is a deterministic one-hot, so under the uniform
// prior of training the KL is the constant (latent_dim/embedding_dim)·log K
// and the "ELBO" is recon plus a constant; the codebook and commitment terms
// belong to no bound. recon is the main metric. (recon + rate is an upper
// bound on −log p(x) for the model Generate samples from, reported as two
// separate terms.)
type VQVAEConfig struct {
	Base
	CodebookSize int     `param:"codebook_size" range:">= 2" help:"number of codebook entries K"`
	EmbeddingDim int     `param:"embedding_dim" range:">= 1, divides latent_dim" help:"dimension of each code vector; the encoder's latent_dim outputs are quantized as latent_dim/embedding_dim code vectors"`
	Commitment   float64 `param:"commitment" range:">= 0" help:"β, weight of the commitment loss ‖z_e − sg[e]‖²"`
	EMA          bool    `param:"ema" range:"true|false" help:"update the codebook by exponential moving averages (non-trainable) instead of the codebook loss"`
	Decay        float64 `param:"ema_decay" range:"[0, 1)" help:"decay of the EMA codebook updates (ema=true)"`
	Epsilon      float64 `param:"ema_epsilon" range:"> 0" help:"Laplace smoothing of the EMA cluster sizes (ema=true)"`
}

func defaultVQVAEConfig() *VQVAEConfig {
	b := defaultBase()
	b.LatentDim = 512 // 8 code vectors of 64
	return &VQVAEConfig{Base: b, CodebookSize: 512, EmbeddingDim: 64, Commitment: 0.25, Decay: 0.99, Epsilon: 1e-5}
}

// Validate checks the hyperparameters.
func (c *VQVAEConfig) Validate(d vae.Data) error {
	if err := c.Base.Validate(d); err != nil {
		return err
	}
	if c.CodebookSize < 2 {
		return fmt.Errorf("codebook_size=%d: must be >= 2", c.CodebookSize)
	}
	if c.EmbeddingDim < 1 {
		return fmt.Errorf("embedding_dim=%d: must be >= 1", c.EmbeddingDim)
	}
	if c.LatentDim%c.EmbeddingDim != 0 {
		return fmt.Errorf("latent_dim=%d: must be a multiple of embedding_dim=%d (latent_dim/embedding_dim code vectors per image)", c.LatentDim, c.EmbeddingDim)
	}
	if !(c.Commitment >= 0) {
		return fmt.Errorf("commitment=%g: must be >= 0", c.Commitment)
	}
	if !(c.Decay >= 0 && c.Decay < 1) {
		return fmt.Errorf("ema_decay=%g: must be in [0, 1)", c.Decay)
	}
	if !(c.Epsilon > 0) {
		return fmt.Errorf("ema_epsilon=%g: must be > 0", c.Epsilon)
	}
	return nil
}

// Build constructs the model.
func (c *VQVAEConfig) Build(d vae.Data) vae.Model {
	return &VQVAE{networks: newNetworks(c.Base, d), cfg: *c}
}

// VQVAE is the vector-quantized autoencoder; see [VQVAEConfig].
type VQVAE struct {
	networks
	cfg VQVAEConfig
}

const (
	// usageDecay is the decay of the moving average of code usage behind the
	// prior and the dead-code count.
	usageDecay = 0.99
	// deadShare: a code is dead when its average usage is below this fraction of 1/K.
	deadShare = 0.01
	// priorFloor keeps every code's prior probability positive (no infinite rate).
	priorFloor = 1e-6
)

// numLatents is the number of code vectors per image.
func (m *VQVAE) numLatents() int { return m.LatentDim / m.cfg.EmbeddingDim }

// codebook returns the code vectors, [K, D]. Trained by the codebook loss, or
// with EMA the smoothed ratio of the non-trainable moving sums and counts.
func (m *VQVAE) codebook(scope *model.Scope, g *graph.Graph) *graph.Node {
	k, d := m.cfg.CodebookSize, m.cfg.EmbeddingDim
	s := scope.At("codebook")
	if !m.cfg.EMA {
		return s.WithInitializer(m.codebookInit(s)).VariableWithShape("embeddings", shapes.Make(dtypes.Float32, k, d)).NodeValue(g)
	}
	sum, size := m.emaVars(s)
	return graph.Div(sum.NodeValue(g), graph.InsertAxes(m.smoothedSizes(size.NodeValue(g)), -1))
}

// codebookInit draws entries from U(−1/K, 1/K) per coordinate, as common
// PyTorch implementations do (PyTorch-VAE, zalandoresearch/pytorch-vq-vae):
// the codes start near the origin and the encoder's outputs come to them.
func (m *VQVAE) codebookInit(scope *model.Scope) model.VariableInitializer {
	bound := 1 / float64(m.cfg.CodebookSize)
	return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		return graph.MulScalar(graph.AddScalar(scope.RandomUniform(g, shape), -0.5), 2*bound)
	}
}

// emaVars returns the EMA codebook's variables: the moving sum of the encoder
// outputs assigned to each code ("ema_sum", [K, D], starting at the initial
// codebook) and the moving count ("ema_cluster_size", [K], starting at 1 so
// that the initial codebook is ema_sum itself). Both are non-trainable.
func (m *VQVAE) emaVars(scope *model.Scope) (sum, size *model.Variable) {
	k, d := m.cfg.CodebookSize, m.cfg.EmbeddingDim
	sum = scope.WithInitializer(m.codebookInit(scope)).VariableWithShape("ema_sum", shapes.Make(dtypes.Float32, k, d))
	size = scope.WithInitializer(vqConstant(1)).VariableWithShape("ema_cluster_size", shapes.Make(dtypes.Float32, k))
	sum.SetTrainable(false)
	size.SetTrainable(false)
	return sum, size
}

// smoothedSizes applies Laplace smoothing to the moving counts N:
// (N_k + ε) / (n + K·ε) · n with n = Σ N_k, so no code divides by zero.
func (m *VQVAE) smoothedSizes(size *graph.Node) *graph.Node {
	eps := m.cfg.Epsilon
	n := graph.ReduceAllSum(size)
	return graph.Mul(graph.Div(graph.AddScalar(size, eps), graph.AddScalar(n, float64(m.cfg.CodebookSize)*eps)), n)
}

// usageVar is the moving average of each position's code frequencies, [M, K],
// starting uniform; non-trainable and updated in training steps only.
func (m *VQVAE) usageVar(scope *model.Scope) *model.Variable {
	v := scope.At("prior").WithInitializer(vqConstant(1/float64(m.cfg.CodebookSize))).
		VariableWithShape("usage", shapes.Make(dtypes.Float32, m.numLatents(), m.cfg.CodebookSize))
	v.SetTrainable(false)
	return v
}

// logPrior is the log-probability of each code at each position, [M, K]:
// the usage average with a floor, renormalized.
func (m *VQVAE) logPrior(usage *graph.Node) *graph.Node {
	p := graph.AddScalar(usage, priorFloor)
	return graph.Log(graph.Div(p, graph.ReduceAndKeep(p, graph.ReduceSum, -1)))
}

// vqConstant initializes every element to v.
func vqConstant(v float64) model.VariableInitializer {
	return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		return graph.BroadcastToShape(graph.Scalar(g, shape.DType, v), shape)
	}
}

// quantized is one batch's encoding.
type quantized struct {
	zE, zQ *graph.Node // [B, M, D]: encoder outputs and their nearest codes
	codes  *graph.Node // [B, M] int32
	oneHot *graph.Node // [B, M, K] float32
}

// quantize encodes x and replaces each code vector by its nearest codebook entry.
func (m *VQVAE) quantize(scope *model.Scope, x *graph.Node) quantized {
	b, mm, d := x.Shape().Dimensions[0], m.numLatents(), m.cfg.EmbeddingDim
	zE := graph.Reshape(m.encode(scope, x, nil, m.LatentDim), b, mm, d)
	codebook := m.codebook(scope, x.Graph())
	codes := vqNearest(zE, codebook)
	oneHot := graph.OneHot(codes, m.cfg.CodebookSize, dtypes.Float32)
	// A one-hot matmul rather than a gather: the codebook loss's gradient then
	// reaches the chosen entries by an ordinary dot product.
	zQ := graph.Einsum("bmk,kd->bmd", oneHot, codebook)
	return quantized{zE: zE, zQ: zQ, codes: codes, oneHot: oneHot}
}

// vqNearest returns the index of the codebook row closest to each vector of z
// ([B, M, D] against [K, D] → [B, M] int32), by ‖z‖² − 2 z·e + ‖e‖².
func vqNearest(z, codebook *graph.Node) *graph.Node {
	z, codebook = graph.StopGradient(z), graph.StopGradient(codebook)
	dot := graph.Einsum("bmd,kd->bmk", z, codebook)
	zz := graph.ReduceAndKeep(graph.Square(z), graph.ReduceSum, -1)                       // [B, M, 1]
	ee := graph.ExpandLeftToRank(graph.ReduceSum(graph.Square(codebook), -1), dot.Rank()) // [1, 1, K]
	dist := graph.Add(graph.Sub(zz, graph.MulScalar(dot, 2)), ee)
	return graph.ArgMin(dist, -1, dtypes.Int32)
}

// vqDistance sums (a − b)² over every axis but the first: [B].
func vqDistance(a, b *graph.Node) *graph.Node {
	return graph.ReduceSum(graph.Square(graph.Sub(a, b)), 1, 2)
}

// Loss is recon + codebook + β·commit, with perplexity, dead codes and rate recorded.
func (m *VQVAE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	g := b.X.Graph()
	q := m.quantize(scope, b.X)
	// Straight-through: the forward value is z_q, the backward pass treats
	// quantization as the identity so the decoder's gradient reaches z_e.
	zST := graph.Add(q.zE, graph.StopGradient(graph.Sub(q.zQ, q.zE)))
	recon := m.reconNLL(scope, b.X, m.decode(scope, graph.Reshape(zST, b.Size(), m.LatentDim), nil))
	commit := vqDistance(q.zE, graph.StopGradient(q.zQ))

	usageVar := m.usageVar(scope)
	usage := usageVar.NodeValue(g)
	freq := graph.ReduceMean(q.oneHot, 0) // [M, K]: this batch's code frequencies per position
	rate := graph.Neg(graph.ReduceSum(graph.Mul(q.oneHot, graph.ExpandLeftToRank(m.logPrior(usage), 3)), 1, 2))
	if scope.IsTraining(g) {
		usage = graph.Add(graph.MulScalar(usage, usageDecay), graph.MulScalar(freq, 1-usageDecay))
		usageVar.SetNodeValue(usage)
		if m.cfg.EMA {
			m.emaUpdate(scope, q)
		}
	}

	terms := []vae.Term{{Name: "recon", Value: recon, Weight: 1}}
	if !m.cfg.EMA {
		terms = append(terms, vae.Term{Name: "codebook", Value: vqDistance(graph.StopGradient(q.zE), q.zQ), Weight: 1})
	}
	terms = append(terms,
		vae.Term{Name: "commit", Value: commit, Weight: m.cfg.Commitment},
		vae.Term{Name: "perplexity", Value: vqPerplexity(graph.ReduceMean(freq, 0)), Weight: 0},
		vae.Term{Name: "dead_codes", Value: m.deadCodes(usage), Weight: 0},
		vae.Term{Name: "rate", Value: rate, Weight: 0},
	)
	return vae.Loss{Terms: terms}
}

// emaUpdate moves the EMA codebook toward the mean of the encoder outputs
// assigned to each code: N ← γN + (1−γ)n, S ← γS + (1−γ)Σ z_e.
func (m *VQVAE) emaUpdate(scope *model.Scope, q quantized) {
	sumVar, sizeVar := m.emaVars(scope.At("codebook"))
	g := q.zE.Graph()
	decay := m.cfg.Decay
	counts := graph.ReduceSum(q.oneHot, 0, 1)                               // [K]
	sums := graph.Einsum("bmk,bmd->kd", q.oneHot, graph.StopGradient(q.zE)) // [K, D]
	ema := func(old, batch *graph.Node) *graph.Node {
		return graph.Add(graph.MulScalar(old, decay), graph.MulScalar(batch, 1-decay))
	}
	sizeVar.SetNodeValue(ema(sizeVar.NodeValue(g), counts))
	sumVar.SetNodeValue(ema(sumVar.NodeValue(g), sums))
}

// vqPerplexity is exp(−Σ p log p) of a distribution over codes, [K] → scalar.
func vqPerplexity(p *graph.Node) *graph.Node {
	plogp := graph.Mul(p, graph.Log(graph.AddScalar(p, 1e-10)))
	return graph.Exp(graph.Neg(graph.ReduceAllSum(plogp)))
}

// deadCodes counts the codes whose usage, averaged over positions, is below
// deadShare of a uniform share.
func (m *VQVAE) deadCodes(usage *graph.Node) *graph.Node {
	perCode := graph.ReduceMean(usage, 0)
	dead := graph.LessThan(perCode, graph.Scalar(usage.Graph(), dtypes.Float32, deadShare/float64(m.cfg.CodebookSize)))
	return graph.ReduceAllSum(graph.ConvertDType(dead, dtypes.Float32))
}

// Generate draws each position's code independently from the fitted prior
// (see [VQVAE.SampleCodes]) and decodes.
func (m *VQVAE) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	codes := m.SampleCodes(scope, g, n)
	return m.mean(m.decode(scope, graph.Reshape(m.lookup(scope, g, codes), n, m.LatentDim), nil))
}

// SampleCodes draws n code sequences, [n, latent_dim/embedding_dim] int32,
// each position independently from its fitted categorical prior (Gumbel-max
// over the log-probabilities).
func (m *VQVAE) SampleCodes(scope *model.Scope, g *graph.Graph, n int) *graph.Node {
	logp := graph.ExpandLeftToRank(m.logPrior(m.usageVar(scope).NodeValue(g)), 3) // [1, M, K]
	u := graph.ClipScalar(scope.RandomUniform(g, shapes.Make(dtypes.Float32, n, m.numLatents(), m.cfg.CodebookSize)), 1e-7, 1-1e-7)
	gumbel := graph.Neg(graph.Log(graph.Neg(graph.Log(u))))
	return graph.ArgMax(graph.Add(logp, gumbel), -1, dtypes.Int32)
}

// lookup returns the code vectors of codes ([B, M] int32 → [B, M, D]).
func (m *VQVAE) lookup(scope *model.Scope, g *graph.Graph, codes *graph.Node) *graph.Node {
	oneHot := graph.OneHot(codes, m.cfg.CodebookSize, dtypes.Float32)
	return graph.Einsum("bmk,kd->bmd", oneHot, m.codebook(scope, g))
}

// Reconstruct decodes the quantized code.
func (m *VQVAE) Reconstruct(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.mean(m.decode(scope, graph.Reshape(m.quantize(scope, b.X).zQ, b.Size(), m.LatentDim), nil))
}

// Encode returns the quantized code z_q, [B, latent_dim].
func (m *VQVAE) Encode(scope *model.Scope, b vae.Batch) *graph.Node {
	return graph.Reshape(m.quantize(scope, b.X).zQ, b.Size(), m.LatentDim)
}

// Codes returns each example's codebook indices, [B, latent_dim/embedding_dim] int32.
func (m *VQVAE) Codes(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.quantize(scope, b.X).codes
}
