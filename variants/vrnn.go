package variants

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var vrnnFamily = Family{
	Name:      "vrnn",
	Summary:   "variational RNN: an LSTM state, a learned prior p(z_t | h_t−1), per-step recon and KL; generates and continues sequences",
	Paper:     "Chung, Kastner, Dinh, Goel, Courville & Bengio 2015, A Recurrent Latent Variable Model for Sequential Data (arXiv:1506.02216)",
	NewConfig: func() Config { return &VRNNConfig{SeqBase: defaultSeqBase()} },
}

// VRNNConfig configures the variational RNN of Chung et al. (2015). With
// h₀ = 0, at each step t:
//   - prior p(z_t | h_{t−1}): a diagonal Gaussian from an MLP of h_{t−1};
//   - posterior q(z_t | x_t, h_{t−1}): a diagonal Gaussian from an MLP of
//     [φx(x_t), h_{t−1}];
//   - decoder p(x_t | z_t, h_{t−1}) from an MLP (or the conv decoder) of
//     [φz(z_t), h_{t−1}]: Bernoulli pixels for intensities; for Real data a
//     Gaussian with a mean and a log-variance per value;
//   - recurrence h_t = LSTM([φx(x_t), φz(z_t)], h_{t−1}), unrolled in the graph.
//
// φx is an MLP of the frame (arch=mlp) or two 3×3 stride-2 convolutions and
// a Dense layer (arch=conv, for 64×64 frames); φz is one Dense layer; both
// end in ReLU. The loss terms, in nats per sequence: "recon" = Σ_t −log
// p(x_t | z_t, h_{t−1}) along one path sampled from the posterior, and "kl" =
// Σ_t KL(q(z_t | ·) ‖ p(z_t | h_{t−1})), analytic given that path; their sum
// is the NELBO. Per step ([vae.StepScorer]) the two give the anomaly score.
//
// As in the paper the cell is an LSTM and every network is one hidden layer
// deep by default (the paper's widths were larger). Generation feeds the
// pixel means back for intensities (not Bernoulli draws) and draws of x for
// Real data.
type VRNNConfig struct {
	SeqBase
}

// Validate checks the hyperparameters for the data set d (a sequence data set).
func (c *VRNNConfig) Validate(d vae.Data) error { return c.validate("vrnn", d) }

// Build constructs the model.
func (c *VRNNConfig) Build(d vae.Data) vae.Model { return &VRNN{frameNets: newFrameNets(c.SeqBase, d)} }

// VRNN is the variational RNN.
type VRNN struct {
	frameNets
}

// vrnnPath is one pass of the recurrence over observed frames.
type vrnnPath struct {
	hPrev *graph.Node  // h_{t−1} at each step, [B, T, State]
	q     vae.Gaussian // q(z_t | x_t, h_{t−1}), [B, T, LatentDim]
	z     *graph.Node  // the z_t used, [B, T, LatentDim]
	fz    *graph.Node  // φz(z_t), [B, T, Features]
	last  vae.LSTMState
}

func (m *VRNN) cell(scope *model.Scope, g *graph.Graph) vae.LSTM {
	return vae.NewLSTM(scope.At("rnn"), g, 2*m.Features, m.State, m.init())
}

// filter runs the recurrence over the frames' features fx (one [B,
// Features] node per step) with each z_t drawn from the posterior, or set to
// its mean when useMean.
func (m *VRNN) filter(scope *model.Scope, fx []*graph.Node, useMean bool) vrnnPath {
	g := fx[0].Graph()
	b, t := fx[0].Shape().Dimensions[0], len(fx)
	cell := m.cell(scope, g)
	s := cell.Zero(g, b)
	hs, zs, fzs := make([]*graph.Node, t), make([]*graph.Node, t), make([]*graph.Node, t)
	qs := make([]vae.Gaussian, t)
	for i, x := range fx {
		q := vae.GaussianFromParams(vae.MLP(scope.At("encoder"), graph.Concatenate([]*graph.Node{x, s.H}, -1), m.Hidden, 2*m.LatentDim, m.init()))
		z := q.Mean
		if !useMean {
			z = q.Sample(scope)
		}
		fz := m.phiZ(scope, z)
		hs[i], zs[i], fzs[i], qs[i] = s.H, z, fz, q
		s = cell.Step(graph.Concatenate([]*graph.Node{x, fz}, -1), s)
	}
	return vrnnPath{hPrev: stackSteps(hs), q: stackGaussians(qs), z: stackSteps(zs), fz: stackSteps(fzs), last: s}
}

// phiZ is the latent feature extractor φz.
func (m *VRNN) phiZ(scope *model.Scope, z *graph.Node) *graph.Node {
	return vae.DenseAct(scope.At("phi_z"), z, m.Features, m.init(), activation.TypeRelu)
}

// prior is p(z_t | h_{t−1}) for states h ([N, State]).
func (m *VRNN) prior(scope *model.Scope, h *graph.Node) vae.Gaussian {
	return vae.GaussianFromParams(vae.MLP(scope.At("prior"), h, m.Hidden, 2*m.LatentDim, m.init()))
}

// priorSteps is the prior at every step of a path, [B, T, LatentDim].
func (m *VRNN) priorSteps(scope *model.Scope, hPrev *graph.Node) vae.Gaussian {
	d := hPrev.Shape().Dimensions
	p := m.prior(scope, mergeSteps(hPrev))
	return vae.Gaussian{Mean: graph.Reshape(p.Mean, d[0], d[1], -1), LogVar: graph.Reshape(p.LogVar, d[0], d[1], -1)}
}

// decode is the decoder output for every step of a path, [B·T, H, W, ·].
func (m *VRNN) decode(scope *model.Scope, p vrnnPath) *graph.Node {
	return m.decodeFrames(scope, mergeSteps(graph.Concatenate([]*graph.Node{p.fz, p.hPrev}, -1)))
}

// steps returns the per-step reconstruction −log p(x_t | z_t, h_{t−1}) and KL, each [B, T].
func (m *VRNN) steps(scope *model.Scope, x *graph.Node) (recon, kl *graph.Node) {
	p := m.filter(scope, m.features(scope, x), false)
	kl = vae.KLGaussians(p.q, m.priorSteps(scope, p.hPrev))
	recon = graph.Neg(m.stepLogLik(x, m.decode(scope, p)))
	return recon, kl
}

// Loss is the negative ELBO, recon + kl, each summed over the steps.
func (m *VRNN) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	recon, kl := m.steps(scope, b.X)
	recon, kl = graph.ReduceSum(recon, 1), graph.ReduceSum(kl, 1)
	return vae.Loss{
		Terms: []vae.Term{{Name: "recon", Value: recon, Weight: 1}, {Name: "kl", Value: kl, Weight: 1}},
		NELBO: graph.Add(recon, kl),
	}
}

// StepNELBO is each step's recon + kl, [B, T] nats (see vae.StepScorer).
func (m *VRNN) StepNELBO(scope *model.Scope, b vae.Batch) *graph.Node {
	recon, kl := m.steps(scope, b.X)
	return graph.Add(recon, kl)
}

// Generate samples n sequences from h₀ = 0.
func (m *VRNN) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	return m.rollout(scope, m.cell(scope, g).Zero(g, n), m.shape.Frames)
}

// Continue filters the prefix b.X with the posterior and samples the next
// steps frames from the state it leaves (see vae.Continuer).
func (m *VRNN) Continue(scope *model.Scope, b vae.Batch, steps int) *graph.Node {
	p := m.filter(scope, m.features(scope, b.X), false)
	return m.rollout(scope, p.last, steps)
}

// rollout samples steps frames from the model starting in state s:
// z_t ~ p(z_t | h_{t−1}), x_t from the decoder (see frameNets.draw), then
// h_t from both; [B, steps, H, W, C].
func (m *VRNN) rollout(scope *model.Scope, s vae.LSTMState, steps int) *graph.Node {
	g := s.H.Graph()
	cell := m.cell(scope, g)
	frames := make([]*graph.Node, steps)
	for i := range steps {
		z := m.prior(scope, s.H).Sample(scope)
		fz := m.phiZ(scope, z)
		x := m.draw(scope, m.decodeFrames(scope, graph.Concatenate([]*graph.Node{fz, s.H}, -1)))
		fx := m.features(scope, graph.InsertAxes(x, 1))[0]
		s = cell.Step(graph.Concatenate([]*graph.Node{fx, fz}, -1), s)
		frames[i] = x
	}
	return stackSteps(frames)
}

// Reconstruct decodes each step along the path of posterior means.
func (m *VRNN) Reconstruct(scope *model.Scope, b vae.Batch) *graph.Node {
	p := m.filter(scope, m.features(scope, b.X), true)
	return m.asSequences(m.mean(m.decode(scope, p)), b.Size(), m.shape.Frames)
}

// Encode returns the posterior means along the path of posterior means,
// one code per sequence: [B, Frames·LatentDim], step after step.
func (m *VRNN) Encode(scope *model.Scope, b vae.Batch) *graph.Node {
	p := m.filter(scope, m.features(scope, b.X), true)
	return graph.Reshape(p.q.Mean, b.Size(), -1)
}

// LogLikelihood is the k-sample importance-weighted estimate of
// log p(x_{1:T}) with whole sequences as samples: each of the k paths runs
// its own recurrence with z_t ~ q(z_t | x_t, h_{t−1}) (the filtering
// posterior, the proposal the ELBO uses), weighted by
// Π_t p(x_t | z_t, h_{t−1}) p(z_t | h_{t−1}) / q(z_t | x_t, h_{t−1}). At k = 1
// its expectation is −NELBO.
func (m *VRNN) LogLikelihood(scope *model.Scope, b vae.Batch, k int) *graph.Node {
	x := repeatBatch(b.X, k)
	p := m.filter(scope, repeatSteps(m.features(scope, b.X), k), false)
	prior := m.priorSteps(scope, p.hPrev)
	logLik := graph.ReduceSum(m.stepLogLik(x, m.decode(scope, p)), 1)
	logRatio := graph.ReduceSum(graph.Sub(prior.LogDensity(p.z), p.q.LogDensity(p.z)), 1)
	return vae.LogMeanExp(graph.Reshape(graph.Add(logLik, logRatio), k, b.Size()), 0)
}
