package variants

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var betaVAEFamily = Family{
	Name:    "beta-vae",
	Summary: "β-VAE: KL weighted by beta, or the capacity form gamma·|KL − C| with C ramped up (capacity_max > 0)",
	Paper: "Higgins et al. 2017, β-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework (ICLR); " +
		"capacity form: Burgess et al. 2018, Understanding disentangling in β-VAE (arXiv:1804.03599)",
	NewConfig: func() Config {
		return &BetaVAEConfig{Base: defaultBase(), Beta: 4, Gamma: 1000, CapacitySteps: 100000}
	},
}

// BetaVAEConfig configures the β-VAE. With capacity_max = 0 it is the β-VAE
// of Higgins et al. (2017): loss = "recon" + β·"kl" (β = 1 is exactly the
// standard VAE). With capacity_max > 0 it is the capacity-annealed form of
// Burgess et al. (2018): loss = "recon" + γ·"kl_gap", kl_gap = |KL − C|,
// where C (recorded as the weight-0 diagnostic "capacity", nats) grows
// linearly from 0 to capacity_max over capacity_steps training steps and
// then stays; "kl" is then recorded with weight 0. As in the reference
// implementations (disentanglement_lib's AnnealedVAE, PyTorch-VAE), KL in
// kl_gap is the batch mean, so kl_gap is one scalar per batch, not
// Σᵢ |KLᵢ − C| per example. In both forms "nelbo" = recon + kl is the
// ordinary negative ELBO, so runs compare with the VAE.
type BetaVAEConfig struct {
	Base
	Beta          float64 `param:"beta" range:">= 0" help:"weight of the KL term (Higgins et al.; 1 = standard VAE); unused when capacity_max > 0"`
	Gamma         float64 `param:"gamma" range:"> 0" help:"weight of |KL − C| in the capacity form (Burgess et al. use 1000)"`
	CapacityMax   float64 `param:"capacity_max" range:">= 0" help:"final KL capacity C in nats per example (Burgess et al. use 25); 0 = plain β-VAE"`
	CapacitySteps int     `param:"capacity_steps" range:">= 0" help:"training steps over which C grows linearly from 0 to capacity_max (Burgess et al.: 100000; one MNIST epoch at batch 128 is 468)"`
}

// Validate checks the hyperparameters.
func (c *BetaVAEConfig) Validate(d vae.Data) error {
	if err := c.Base.Validate(d); err != nil {
		return err
	}
	if !(c.Beta >= 0) {
		return fmt.Errorf("beta=%g: must be >= 0", c.Beta)
	}
	if !(c.Gamma > 0) {
		return fmt.Errorf("gamma=%g: must be > 0", c.Gamma)
	}
	if !(c.CapacityMax >= 0) {
		return fmt.Errorf("capacity_max=%g: must be >= 0 (0 = plain β-VAE)", c.CapacityMax)
	}
	if c.CapacitySteps < 0 {
		return fmt.Errorf("capacity_steps=%d: must be >= 0", c.CapacitySteps)
	}
	return nil
}

// Build constructs the model.
func (c *BetaVAEConfig) Build(d vae.Data) vae.Model {
	return &BetaVAE{VAE: &VAE{networks: newNetworks(c.Base, d), beta: c.Beta}, cfg: *c}
}

// BetaVAE is the β-VAE: the standard VAE with a reweighted or constrained KL.
// Sampling, reconstruction, encoding and the IWAE estimate are the VAE's.
type BetaVAE struct {
	*VAE
	cfg BetaVAEConfig
}

// Loss is recon + β·kl, or recon + γ·|KL − C| in the capacity form.
func (m *BetaVAE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	if m.cfg.CapacityMax == 0 {
		return m.VAE.Loss(scope, b)
	}
	g := b.X.Graph()
	q := m.posterior(scope, b.X)
	recon := m.reconNLL(scope, b.X, m.decode(scope, q.Sample(scope), nil))
	kl := vae.KLStdNormal(q)
	capacity := vae.LinearRamp(vae.GlobalStep(scope, g), 0, m.cfg.CapacityMax, m.cfg.CapacitySteps)
	gap := graph.Abs(graph.Sub(graph.ReduceAllMean(kl), capacity))
	return vae.Loss{
		Terms: []vae.Term{
			{Name: "recon", Value: recon, Weight: 1},
			{Name: "kl_gap", Value: gap, Weight: m.cfg.Gamma},
			{Name: "kl", Value: kl, Weight: 0},
			{Name: "capacity", Value: capacity, Weight: 0},
		},
		NELBO: graph.Add(recon, kl),
	}
}
