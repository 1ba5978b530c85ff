package variants

import (
	"fmt"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var denoisingVAEFamily = Family{
	Name:    "denoising-vae",
	Summary: "denoising VAE: encodes a corrupted input (gaussian, mask or salt_pepper noise) and reconstructs the clean one",
	Paper:   "Im, Ahn, Memisevic & Bengio 2017, Denoising Criterion for Variational Auto-Encoding Framework (AAAI; arXiv:1511.06406)",
	NewConfig: func() Config {
		return &DenoisingVAEConfig{Base: defaultBase(), Corruption: "salt_pepper", CorruptionRate: 0.1}
	},
}

// Corruptions lists the input corruptions of the denoising VAE.
var Corruptions = []string{"gaussian", "mask", "salt_pepper"}

// DenoisingVAEConfig configures the denoising VAE (DVAE) of Im et al. (2017).
// In training, each input x is corrupted once, x̃ ~ p(x̃ | x); the encoder
// sees x̃ and the loss is the VAE's negative ELBO for the clean x,
// "recon" = −log p(x | z) and "kl" = KL(q(z | x̃) ‖ N(0, I)), z ~ q(z | x̃).
//
// Im et al.'s tractable bound is L_dvae = E_{p(x̃|x)} E_{q(z|x̃)}[log p(x, z) − log q(z | x̃)]:
// an expectation over the corruption. vaexp estimates it with one corruption
// and one z per example per step (their M = K = 1): unbiased, but noisier
// than averaging several corruptions. Each one-sample term is itself an
// ELBO of log p(x) (q(z | x̃) is just another variational distribution), so
// "nelbo" is a proper bound in training too. Their bound is not evaluated at
// test time: evaluation (and Reconstruct, Encode, the IWAE estimate) uses the
// clean input, so test/nelbo is the ordinary ELBO with q(z | x), comparable
// with the VAE's, and neither L_dvae nor the intractable bound of the
// marginal q̃(z | x) = E_{p(x̃|x)} q(z | x̃) that motivates it.
//
// The default corruption, salt_pepper, is the one Im et al. use on MNIST
// (Gaussian noise on the real-valued Frey Faces); the default rate 0.1 is
// vaexp's choice, not a value from the paper.
type DenoisingVAEConfig struct {
	Base
	Corruption     string  `param:"corruption" range:"gaussian|mask|salt_pepper" help:"input corruption in training: gaussian (x + rate·ε, not clipped), mask (each pixel zeroed with probability rate) or salt_pepper (each pixel set to 0 or 1, equally likely, with probability rate)"`
	CorruptionRate float64 `param:"corruption_rate" range:"[0, 1]" help:"corruption strength: the noise std for gaussian, the probability of corrupting each pixel for mask and salt_pepper"`
}

// Validate checks the hyperparameters.
func (c *DenoisingVAEConfig) Validate(d vae.Data) error {
	if err := c.Base.Validate(d); err != nil {
		return err
	}
	known := false
	for _, k := range Corruptions {
		known = known || c.Corruption == k
	}
	if !known {
		return fmt.Errorf("corruption=%q: must be one of %s", c.Corruption, strings.Join(Corruptions, ", "))
	}
	if !(c.CorruptionRate >= 0 && c.CorruptionRate <= 1) {
		return fmt.Errorf("corruption_rate=%g: must be in [0, 1]", c.CorruptionRate)
	}
	return nil
}

// Build constructs the model.
func (c *DenoisingVAEConfig) Build(d vae.Data) vae.Model {
	return &DenoisingVAE{VAE: &VAE{networks: newNetworks(c.Base, d), beta: 1}, corruption: c.Corruption, rate: c.CorruptionRate}
}

// DenoisingVAE is the denoising VAE. Sampling, reconstruction, encoding and
// the IWAE estimate are the VAE's, on clean inputs.
type DenoisingVAE struct {
	*VAE
	corruption string
	rate       float64
}

// Loss is the negative ELBO of the clean input with the encoder fed the
// corrupted one in training; outside training it is the VAE's.
func (m *DenoisingVAE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	if !scope.IsTraining(b.X.Graph()) {
		return m.VAE.Loss(scope, b)
	}
	q := m.posterior(scope, m.Corrupt(scope, b.X))
	recon := m.reconNLL(scope, b.X, m.decode(scope, q.Sample(scope), nil))
	kl := vae.KLStdNormal(q)
	return vae.Loss{
		Terms: []vae.Term{{Name: "recon", Value: recon, Weight: 1}, {Name: "kl", Value: kl, Weight: 1}},
		NELBO: graph.Add(recon, kl),
	}
}

// Corrupt draws x̃ ~ p(x̃ | x) from the scope's random state.
func (m *DenoisingVAE) Corrupt(scope *model.Scope, x *graph.Node) *graph.Node {
	if m.rate == 0 {
		return x
	}
	g := x.Graph()
	switch m.corruption {
	case "gaussian":
		return graph.Add(x, graph.MulScalar(scope.RandomNormal(g, x.Shape()), m.rate))
	case "mask":
		keep := graph.ConvertDType(graph.GreaterOrEqual(scope.RandomUniform(g, x.Shape()), graph.Scalar(g, x.DType(), m.rate)), x.DType())
		return graph.Mul(x, keep)
	default: // salt_pepper
		u := scope.RandomUniform(g, x.Shape())
		hit := graph.ConvertDType(graph.LessThan(u, graph.Scalar(g, x.DType(), m.rate)), x.DType())
		// Given a hit, u/rate is uniform on [0, 1): its half decides salt or pepper.
		salt := graph.ConvertDType(graph.GreaterOrEqual(u, graph.Scalar(g, x.DType(), m.rate/2)), x.DType())
		// x + hit·(salt − x) rather than Where, which the Go backend runs without SIMD.
		return graph.Add(x, graph.Mul(hit, graph.Sub(salt, x)))
	}
}
