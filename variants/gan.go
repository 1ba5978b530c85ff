package variants

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var ganFamily = Family{
	Name:    "gan",
	Summary: "GAN with MLP generator and discriminator (LeakyReLU), non-saturating loss: the cheap adversarial baseline; no encoder, no likelihood",
	Paper:   "Goodfellow, Pouget-Abadie, Mirza, Xu, Warde-Farley, Ozair, Courville & Bengio 2014, Generative Adversarial Nets (arXiv:1406.2661)",
	NewConfig: func() Config {
		return &GANConfig{
			GANNoise:  GANNoise{LatentDim: 100, Noise: "normal"},
			Hidden:    []int{256, 512, 1024},
			Disc:      Disc{Hidden: []int{512, 256}, LR: 2e-4, Beta1: 0.5, Beta2: 0.999},
			Dropout:   0.3,
			BatchNorm: true,
		}
	},
}

// GANConfig configures the generative adversarial network of Goodfellow et
// al. (2014) with multilayer perceptrons: a generator G maps noise z to an
// image, a discriminator D (an auxiliary objective with its own Adam on the
// "discriminator" scope) tells data from G's output, and G is trained to
// fool it with the non-saturating loss −log D(G(z)) the paper recommends
// (§3) over the minimax log(1 − D(G(z))).
//
// Terms: see [ganCore.Loss] ("gen" is the one optimized; "disc", "d_real",
// "d_fake", "disc_acc" and "fake_spread" are recorded). A GAN has no
// likelihood, so no NELBO.
//
// Departures from the paper, for a baseline that trains in minutes and
// compares cleanly with dcgan: LeakyReLU(0.2) hidden layers in both
// networks instead of the paper's ReLU/sigmoid generator and maxout
// discriminator (the discriminator keeps the paper's dropout,
// disc_dropout); Adam(2e-4, β1 = 0.5) for both players (DCGAN's setting)
// instead of SGD with momentum; one simultaneous update of both players
// per batch (k = 1, the paper's own choice in its experiments); z ~ N(0, I)
// of 100 dimensions by default (the paper does not fix it; noise=uniform
// gives U(−1, 1)). G's output is a sigmoid, as in the paper, because the
// data are intensities in [0, 1]. Batch norm on G's hidden layers after the
// first (batch_norm, as PyTorch-GAN's MLP GAN): without it G collapsed to
// near-copies within 200 steps (3 epochs of MNIST: FID-LeNet 1592, IS 2.30;
// with it 849 and 3.45, `vaexp train --model gan --epochs 3 --quality 1000`).
type GANConfig struct {
	GANNoise
	// Hidden are the generator's hidden widths, 256, 512, 1024 (the
	// discriminator's, disc_hidden, are 512, 256): the usual MNIST sizes of
	// the PyTorch-GAN reference implementations.
	Hidden []int `param:"hidden" range:"widths >= 1" help:"hidden widths of the generator's MLP (LeakyReLU 0.2)"`
	// Disc is the discriminator: an MLP with LeakyReLU(0.2) on the
	// flattened image, and its Adam (2e-4, β1 = 0.5).
	Disc
	// Dropout in the discriminator is the paper's regularizer (§5).
	Dropout float64 `param:"disc_dropout" range:"[0, 1)" help:"dropout rate after each hidden layer of the discriminator, in training"`
	// BatchNorm normalizes the generator's hidden layers after the first, as
	// the PyTorch-GAN reference MLP GAN does (moving averages with
	// momentum 0.1 for evaluation).
	BatchNorm bool `param:"batch_norm" range:"true|false" help:"batch norm on the generator's hidden layers after the first (as PyTorch-GAN's MLP GAN)"`
}

// Validate checks the hyperparameters for the data set d.
func (c *GANConfig) Validate(d vae.Data) error {
	if err := c.GANNoise.Validate(); err != nil {
		return err
	}
	if err := checkWidths("hidden", c.Hidden, "256,512,1024"); err != nil {
		return err
	}
	if err := ganData(d); err != nil {
		return err
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		return fmt.Errorf("disc_dropout=%g: must be in [0, 1), e.g. 0.3", c.Dropout)
	}
	return c.Disc.Validate()
}

// ganData rejects data a GAN here cannot model: sequences and real values
// (the generator's sigmoid output is an intensity in [0, 1]).
func ganData(d vae.Data) error {
	if d.Shape.IsSequence() {
		return fmt.Errorf("data %s holds sequences (%s); the GAN families model single images: use an image data set", d.Name, d.Shape)
	}
	if d.Real {
		return fmt.Errorf("data %s holds unbounded real values; the GAN families generate intensities in [0, 1]: use an image data set", d.Name)
	}
	if d.Shape.Size() < 1 {
		return fmt.Errorf("data %s has examples of shape %s, with no values", d.Name, d.Shape)
	}
	return nil
}

// Training is Adam(2e-4, β1 = 0.5) for both players, updated together on
// every batch, with the GAN alarms.
func (c *GANConfig) Training() Training { return ganTraining }

// Build constructs the model.
func (c *GANConfig) Build(d vae.Data) vae.Model {
	m := &GAN{cfg: *c, shape: d.Shape}
	m.ganCore = ganCore{noise: c.GANNoise, disc: c.Disc, generator: m.generate, discriminator: m.discriminate}
	return m
}

// ganBatchNormMomentum is the weight of each batch in the generator's moving
// batch-norm statistics (PyTorch's default).
const ganBatchNormMomentum = 0.1

// GAN is the MLP generative adversarial network.
type GAN struct {
	ganCore
	cfg   GANConfig
	shape vae.Shape
}

// generate maps noise z ([n, latent_dim]) to logits of images [n, H, W, C].
func (m *GAN) generate(scope *model.Scope, z *graph.Node) *graph.Node {
	s := scope.At(genScope)
	h := z
	for i, w := range m.cfg.Hidden {
		h = vae.Dense(s.At("layer_%d", i), h, w, vae.InitPyTorch)
		if m.cfg.BatchNorm && i > 0 {
			h = batchNorm(s.At("bn_%d", i), h, ganBatchNormMomentum, true)
		}
		h = LeakyReLU(h, 0.2)
	}
	out := vae.Dense(s.At("layer_%d", len(m.cfg.Hidden)), h, m.shape.Size(), vae.InitPyTorch)
	return graph.Reshape(out, m.shape.BatchDims(z.Shape().Dimensions[0])...)
}

// discriminate returns D's logit for each image of x ([B, H, W, C] in [−1, 1]).
func (m *GAN) discriminate(scope *model.Scope, x *graph.Node) *graph.Node {
	return m.cfg.Disc.MLPDropout(scope, vae.Flatten(x), vae.InitPyTorch, m.cfg.Dropout)
}
