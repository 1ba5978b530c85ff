package variants

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var seqVAEFamily = Family{
	Name:      "seq-vae",
	Summary:   "disentangled sequential VAE: a global content latent f, per-frame dynamics latents z_t with a recurrent prior; swapping f swaps content, keeps motion",
	Paper:     "Li & Mandt 2018, Disentangled Sequential Autoencoder (ICML 2018, arXiv:1803.02991)",
	NewConfig: func() Config { return defaultSeqVAEConfig() },
}

// SeqVAEConfig configures a sequential VAE after Li & Mandt (2018), with
// one global content latent f and one dynamics latent z_t per frame:
//   - content posterior q(f | x_{1:T}): a bidirectional LSTM over the frames'
//     features φx(x_t), its two final states through a Dense layer to a
//     diagonal Gaussian (as in the paper);
//   - dynamics posterior q(z_t | x_t): a diagonal Gaussian from an MLP of
//     φx(x_t), frame by frame — the paper's "factorized" encoder, not its
//     "full" q(z_{1:T} | x_{1:T}, f);
//   - priors p(f) = N(0, I) and the learned recurrent p(z_t | z_{<t}): a
//     Dense layer to a diagonal Gaussian from the state of an LSTM that has
//     read z_1 … z_{t−1} (its zero state for z_1), as in the paper;
//   - decoder p(x_t | z_t, f) from [z_t, f], frame by frame (MLP or the
//     conv decoder; Bernoulli pixels, or a Gaussian per value for Real data).
//
// The loss terms, nats per sequence: "recon" = Σ_t −log p(x_t | z_t, f) for
// one sample of f and z_{1:T}; "kl_f" = KL(q(f | x) ‖ N(0, I)); "kl_z" =
// Σ_t KL(q(z_t | x_t) ‖ p(z_t | z_{<t})), analytic given the sampled z_{<t}.
// Their sum is the NELBO, and the loss is recon + kl_f + beta_z·kl_z
// (beta_z = 1 by default: the ELBO, as in the paper). Besides the
// factorized encoder, the networks are smaller than the paper's (one hidden
// layer; it used conv stacks and a 256-d f) and latent_dim defaults to 2:
// content is held once per sequence in f, so the KL of every z_t makes it
// cheaper to keep it out of the z_t, and two values per frame leave room for
// a one-digit position only (velocity is the recurrent prior's to infer).
// Whether a run separated content from motion is measured, not assumed:
// experiments.Trained.MeasureSwaps scores swaps against the data's truth.
//
// Codes: Encode returns [μ_f ; μ_{z_1} … μ_{z_T}] (content_dim +
// Frames·latent_dim values) and Decode decodes any such code, so giving one
// sequence another's content is copying the first content_dim values.
type SeqVAEConfig struct {
	SeqBase
	ContentDim int     `param:"content_dim" range:">= 1" help:"dimension of the global content latent f"`
	BetaZ      float64 `param:"beta_z" range:">= 0" help:"weight of kl_z in the loss (1: the ELBO); above 1 presses content out of the per-frame latents into f"`
}

func defaultSeqVAEConfig() *SeqVAEConfig {
	b := defaultSeqBase()
	b.LatentDim = 2
	return &SeqVAEConfig{SeqBase: b, ContentDim: 32, BetaZ: 1}
}

// Validate checks the hyperparameters for the data set d (a sequence data set).
func (c *SeqVAEConfig) Validate(d vae.Data) error {
	if c.ContentDim < 1 {
		return fmt.Errorf("content_dim=%d: must be >= 1", c.ContentDim)
	}
	if !(c.BetaZ >= 0) || math.IsInf(c.BetaZ, 0) {
		return fmt.Errorf("beta_z=%g: must be >= 0 and finite (1: the ELBO)", c.BetaZ)
	}
	return c.validate("seq-vae", d)
}

// Build constructs the model.
func (c *SeqVAEConfig) Build(d vae.Data) vae.Model {
	return &SeqVAE{frameNets: newFrameNets(c.SeqBase, d), contentDim: c.ContentDim, betaZ: c.BetaZ}
}

// SeqVAE is the disentangled sequential VAE.
type SeqVAE struct {
	frameNets
	contentDim int
	betaZ      float64
}

// content is q(f | x_{1:T}) from the frames' features fx (one [B,
// Features] node per step).
func (m *SeqVAE) content(scope *model.Scope, fx []*graph.Node) vae.Gaussian {
	g := fx[0].Graph()
	_, fwd := vae.NewLSTM(scope.At("content_fwd"), g, m.Features, m.State, m.init()).Run(fx, vae.LSTMState{}, false)
	_, bwd := vae.NewLSTM(scope.At("content_bwd"), g, m.Features, m.State, m.init()).Run(fx, vae.LSTMState{}, true)
	return vae.GaussianFromParams(vae.Dense(scope.At("content"), graph.Concatenate([]*graph.Node{fwd.H, bwd.H}, -1), 2*m.contentDim, m.init()))
}

// dynamics is q(z_t | x_t) of every frame, one Gaussian ([B, LatentDim]) per step.
func (m *SeqVAE) dynamics(scope *model.Scope, fx []*graph.Node) []vae.Gaussian {
	qs := make([]vae.Gaussian, len(fx))
	for i, f := range fx {
		qs[i] = vae.GaussianFromParams(vae.MLP(scope.At("dynamics"), f, m.Hidden, 2*m.LatentDim, m.init()))
	}
	return qs
}

// draw is one sample (or, with useMean, the mean) of each step's Gaussian.
func draw(scope *model.Scope, qs []vae.Gaussian, useMean bool) []*graph.Node {
	zs := make([]*graph.Node, len(qs))
	for i, q := range qs {
		if useMean {
			zs[i] = q.Mean
		} else {
			zs[i] = q.Sample(scope)
		}
	}
	return zs
}

func (m *SeqVAE) priorCell(scope *model.Scope, g *graph.Graph) vae.LSTM {
	return vae.NewLSTM(scope.At("prior_rnn"), g, m.LatentDim, m.State, m.init())
}

// priorOut is p(z_t | z_{<t}) from the prior LSTM's state(s) h ([N, State]).
func (m *SeqVAE) priorOut(scope *model.Scope, h *graph.Node) vae.Gaussian {
	return vae.GaussianFromParams(vae.Dense(scope.At("prior"), h, 2*m.LatentDim, m.init()))
}

// prior is p(z_t | z_{<t}) at every step of zs (one [B, LatentDim] node per
// step), [B, T, LatentDim], and the prior LSTM's state after reading all of
// zs. The LSTM reads z_1 … z_T; the prior of z_t comes from its state after
// z_{t−1}, the zero state for z_1.
func (m *SeqVAE) prior(scope *model.Scope, zs []*graph.Node) (vae.Gaussian, vae.LSTMState) {
	g := zs[0].Graph()
	b, t := zs[0].Shape().Dimensions[0], len(zs)
	cell := m.priorCell(scope, g)
	hs, last := cell.Run(zs, vae.LSTMState{}, false)
	shifted := append([]*graph.Node{cell.Zero(g, b).H}, hs[:t-1]...)
	p := m.priorOut(scope, mergeSteps(stackSteps(shifted)))
	return vae.Gaussian{Mean: graph.Reshape(p.Mean, b, t, -1), LogVar: graph.Reshape(p.LogVar, b, t, -1)}, last
}

// sampleDynamics draws steps z_t from the recurrent prior, continuing from
// the prior LSTM's state s (the zero state to start a sequence), [N, steps,
// LatentDim].
func (m *SeqVAE) sampleDynamics(scope *model.Scope, s vae.LSTMState, steps int) *graph.Node {
	cell := m.priorCell(scope, s.H.Graph())
	zs := make([]*graph.Node, steps)
	for i := range steps {
		z := m.priorOut(scope, s.H).Sample(scope)
		s = cell.Step(z, s)
		zs[i] = z
	}
	return stackSteps(zs)
}

// decode is the decoder output for z ([B, T, LatentDim]) and f ([B,
// ContentDim]), [B·T, H, W, ·].
func (m *SeqVAE) decode(scope *model.Scope, z, f *graph.Node) *graph.Node {
	d := z.Shape().Dimensions
	fs := graph.BroadcastToDims(graph.InsertAxes(f, 1), d[0], d[1], m.contentDim)
	return m.decodeFrames(scope, mergeSteps(graph.Concatenate([]*graph.Node{z, fs}, -1)))
}

// sampled is one draw of the latents from the posterior for the batch x and
// the terms of the ELBO: per step [B, T] (recon, kl_z) and kl_f [B]. With
// k > 1 each sequence is drawn k times (repeatBatch order) and the log
// importance weight is returned too.
func (m *SeqVAE) sampled(scope *model.Scope, x *graph.Node, k int) (recon, klZ, klF, logW *graph.Node) {
	fx := m.features(scope, x)
	if k > 1 {
		fx, x = repeatSteps(fx, k), repeatBatch(x, k)
	}
	qf, qzs := m.content(scope, fx), m.dynamics(scope, fx)
	f, zs := qf.Sample(scope), draw(scope, qzs, false)
	pz, _ := m.prior(scope, zs)
	qz, z := stackGaussians(qzs), stackSteps(zs)
	logLik := m.stepLogLik(x, m.decode(scope, z, f))
	recon, klZ, klF = graph.Neg(logLik), vae.KLGaussians(qz, pz), vae.KLStdNormal(qf)
	logW = graph.Add(graph.ReduceSum(logLik, 1), graph.Sub(vae.StdNormalLogDensity(f), qf.LogDensity(f)))
	logW = graph.Add(logW, graph.ReduceSum(graph.Sub(pz.LogDensity(z), qz.LogDensity(z)), 1))
	return recon, klZ, klF, logW
}

// Loss is recon + kl_f + beta_z·kl_z; the NELBO is recon + kl_f + kl_z.
func (m *SeqVAE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	recon, klZ, klF, _ := m.sampled(scope, b.X, 1)
	recon, klZ = graph.ReduceSum(recon, 1), graph.ReduceSum(klZ, 1)
	return vae.Loss{
		Terms: []vae.Term{{Name: "recon", Value: recon, Weight: 1}, {Name: "kl_f", Value: klF, Weight: 1}, {Name: "kl_z", Value: klZ, Weight: m.betaZ}},
		NELBO: graph.Add(recon, graph.Add(klF, klZ)),
	}
}

// StepNELBO is each step's recon + kl_z plus an equal share of kl_f, [B, T]
// nats (see vae.StepScorer).
func (m *SeqVAE) StepNELBO(scope *model.Scope, b vae.Batch) *graph.Node {
	recon, klZ, klF, _ := m.sampled(scope, b.X, 1)
	share := graph.InsertAxes(graph.MulScalar(klF, 1/float64(m.shape.Frames)), 1)
	return graph.Add(graph.Add(recon, klZ), share)
}

// Generate draws f ~ N(0, I) and z_{1:T} from the recurrent prior.
func (m *SeqVAE) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	f := scope.RandomNormal(g, shapes.Make(dtypes.Float32, n, m.contentDim))
	z := m.sampleDynamics(scope, m.priorCell(scope, g).Zero(g, n), m.shape.Frames)
	return m.asSequences(m.draw(scope, m.decode(scope, z, f)), n, m.shape.Frames)
}

// Continue infers f and z_{1:t₀} from the prefix, draws the next steps z_t
// from the recurrent prior and decodes them with the prefix's content (see
// vae.Continuer).
func (m *SeqVAE) Continue(scope *model.Scope, b vae.Batch, steps int) *graph.Node {
	fx := m.features(scope, b.X)
	f := m.content(scope, fx).Sample(scope)
	_, s := m.prior(scope, draw(scope, m.dynamics(scope, fx), false))
	z := m.sampleDynamics(scope, s, steps)
	return m.asSequences(m.draw(scope, m.decode(scope, z, f)), b.Size(), steps)
}

// Encode returns [μ_f ; μ_{z_1} … μ_{z_T}], [B, ContentDim + Frames·LatentDim].
func (m *SeqVAE) Encode(scope *model.Scope, b vae.Batch) *graph.Node {
	fx := m.features(scope, b.X)
	z := stackSteps(draw(scope, m.dynamics(scope, fx), true))
	return graph.Concatenate([]*graph.Node{m.content(scope, fx).Mean, graph.Reshape(z, b.Size(), -1)}, -1)
}

// Decode decodes codes laid out as Encode returns them into sequences of
// pixel means (or Gaussian means), [n, Frames, H, W, C].
func (m *SeqVAE) Decode(scope *model.Scope, code, _ *graph.Node) *graph.Node {
	n := code.Shape().Dimensions[0]
	if want := m.contentDim + m.shape.Frames*m.LatentDim; code.Shape().Dimensions[1] != want {
		panic(fmt.Errorf("seq-vae: codes of %d values, want content_dim + frames·latent_dim = %d", code.Shape().Dimensions[1], want))
	}
	f := graph.Slice(code, graph.AxisRange(), graph.AxisRange(0, m.contentDim))
	z := graph.Reshape(graph.Slice(code, graph.AxisRange(), graph.AxisRangeToEnd(m.contentDim)), n, m.shape.Frames, m.LatentDim)
	return m.asSequences(m.mean(m.decode(scope, z, f)), n, m.shape.Frames)
}

// Reconstruct decodes the posterior means.
func (m *SeqVAE) Reconstruct(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.Decode(scope, m.Encode(scope, b), nil)
}

// LogLikelihood is the k-sample importance-weighted estimate of
// log p(x_{1:T}), each sample a draw of f and z_{1:T} from the posterior,
// weighted by p(x | z, f) p(f) Π_t p(z_t | z_{<t}) / q(f | x) Π_t q(z_t | x_t).
func (m *SeqVAE) LogLikelihood(scope *model.Scope, b vae.Batch, k int) *graph.Node {
	_, _, _, logW := m.sampled(scope, b.X, k)
	return vae.LogMeanExp(graph.Reshape(logW, k, b.Size()), 0)
}
