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
			GANNoise: GANNoise{LatentDim: 100, Noise: "normal"},
			Hidden:   []int{256, 512, 1024},
			Disc:     Disc{Hidden: []int{512, 256}, LR: 2e-4, Beta1: 0.5, Beta2: 0.999},
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
// Terms: see ganLoss ("gen" is the one optimized; "disc", "d_real",
// "d_fake", "disc_acc" and "fake_spread" are recorded). A GAN has no
// likelihood, so no NELBO.
//
// Departures from the paper, for a baseline that trains in minutes and
// compares cleanly with dcgan: LeakyReLU(0.2) hidden layers in both
// networks instead of the paper's ReLU/sigmoid generator and maxout +
// dropout discriminator; Adam(2e-4, β1 = 0.5) for both players (DCGAN's
// setting) instead of SGD with momentum; one simultaneous update of both
// players per batch (k = 1, the paper's own choice in its experiments);
// z ~ N(0, I) of 100 dimensions by default (the paper does not fix it;
// noise=uniform gives U(−1, 1)). G's output is a sigmoid, as in the paper,
// because the data are intensities in [0, 1].
type GANConfig struct {
	GANNoise
	// Hidden are the generator's hidden widths, 256, 512, 1024 (the
	// discriminator's, disc_hidden, are 512, 256): the usual MNIST sizes of
	// the PyTorch-GAN reference implementations.
	Hidden []int `param:"hidden" range:"widths >= 1" help:"hidden widths of the generator's MLP (LeakyReLU 0.2)"`
	// Disc is the discriminator: an MLP with LeakyReLU(0.2) on the
	// flattened image, and its Adam (2e-4, β1 = 0.5).
	Disc
}

// Validate checks the hyperparameters for the data set d.
func (c *GANConfig) Validate(d vae.Data) error {
	if err := c.GANNoise.Validate(); err != nil {
		return err
	}
	if len(c.Hidden) == 0 {
		return fmt.Errorf("hidden is empty: give the generator at least one width >= 1, e.g. 256,512,1024")
	}
	for _, h := range c.Hidden {
		if h < 1 {
			return fmt.Errorf("hidden=%v: every width must be >= 1", c.Hidden)
		}
	}
	if err := ganData(d); err != nil {
		return err
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
	return &GAN{cfg: *c, shape: d.Shape}
}

// GAN is the MLP generative adversarial network.
type GAN struct {
	cfg   GANConfig
	shape vae.Shape
}

// generate maps noise z ([n, latent_dim]) to logits of images [n, H, W, C].
func (m *GAN) generate(scope *model.Scope, z *graph.Node) *graph.Node {
	s := scope.At(genScope)
	h := z
	for i, w := range m.cfg.Hidden {
		h = LeakyReLU(vae.Dense(s.At("layer_%d", i), h, w, vae.InitPyTorch), 0.2)
	}
	out := vae.Dense(s.At("layer_%d", len(m.cfg.Hidden)), h, m.shape.Size(), vae.InitPyTorch)
	return graph.Reshape(out, m.shape.BatchDims(z.Shape().Dimensions[0])...)
}

// discriminate returns D's logit for each image of x ([B, H, W, C] in [0, 1]),
// read as 2x − 1 (see [DCGANConfig] for why).
func (m *GAN) discriminate(scope *model.Scope, x *graph.Node) *graph.Node {
	return m.cfg.Disc.MLP(scope, vae.Flatten(graph.AddScalar(graph.MulScalar(x, 2), -1)), vae.InitPyTorch)
}

// Loss is the non-saturating generator loss, with the discriminator's loss
// as an auxiliary objective (see ganLoss).
func (m *GAN) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	fake := m.Decode(scope, m.cfg.Sample(scope, b.X.Graph(), b.Size()), nil)
	return ganLoss(m.cfg.Disc, b.X, fake, m.discriminate(scope, b.X), m.discriminate(scope, fake))
}

// Generate decodes fresh noise.
func (m *GAN) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	return m.Decode(scope, m.cfg.Sample(scope, g, n), nil)
}

// Decode is G(z): pixel means [n, H, W, C] for noise vectors z ([n,
// latent_dim]), for interpolations and traversals of the noise space.
func (m *GAN) Decode(scope *model.Scope, z, _ *graph.Node) *graph.Node {
	return graph.Logistic(m.generate(scope, z))
}
