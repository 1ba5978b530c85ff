package variants

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var dcganFamily = Family{
	Name:    "dcgan",
	Summary: "deep convolutional GAN: strided 5×5 conv discriminator, upsample + 5×5 conv generator, batch norm, Adam 2e-4 / β1 0.5; no encoder, no likelihood",
	Paper:   "Radford, Metz & Chintala 2015, Unsupervised Representation Learning with Deep Convolutional Generative Adversarial Networks (arXiv:1511.06434)",
	NewConfig: func() Config {
		return &DCGANConfig{
			GANNoise: GANNoise{LatentDim: 100, Noise: "normal"},
			Hidden:   []int{128, 64},
			Disc:     Disc{Hidden: []int{64, 128}, LR: 2e-4, Beta1: 0.5, Beta2: 0.999},
			Momentum: 0.1,
		}
	},
}

// DCGANConfig configures the deep convolutional GAN of Radford et al.
// (2015), following the paper's architecture guidelines (§3): no pooling
// (strided convolutions in the discriminator, fractionally-strided ones in
// the generator), batch norm in both networks except the generator's output
// and the discriminator's input layers, ReLU in the generator with a
// bounded output, LeakyReLU(0.2) in the discriminator, no hidden dense
// layers, weights drawn from N(0, 0.02²), Adam(2e-4, β1 = 0.5) for both
// players, a 100-dimensional z.
//
// The networks are sized from the data: with hidden = w₁,…,wₖ the generator
// projects z to (H/2ᵏ)×(W/2ᵏ)×w₁ (dense + batch norm + ReLU) and k times
// upsamples 2× and convolves 5×5 (to w₂, …, wₖ, then the image's channels),
// so H and W must be divisible by 2ᵏ: 28×28 MNIST and 64×64 shapes with the
// default k = 2 (7×7×128 → 14×14×64 → 28×28×1, or 16×16 → 32×32 → 64×64).
// The discriminator reads the image through one strided (2) 5×5 convolution
// per disc_hidden width (64, 128), LeakyReLU(0.2) after each and batch norm
// from the second on, then one dense logit. The default widths are the two
// highest-resolution stages of pytorch/examples' 64×64 DCGAN (ngf = ndf =
// 64); for 64×64 images hidden=512,256,128,64 and
// disc_hidden=64,128,256,512 give that whole network, whose generator is
// the paper's Figure 1 at half width.
//
// Departures, each for a reason:
//   - The generator's transposed ("fractionally-strided") 5×5 convolutions
//     are nearest 2× upsampling followed by a 5×5 convolution
//     ([vae.UpsampleConv2D]): even kernels are out (GoMLX v0.28.16's
//     convolution input gradient is wrong for them), a 5×5 stride-2
//     transposed convolution overlaps unevenly (the checkerboard artefacts
//     of Odena et al. 2016, who recommend this form), and it runs on
//     vaexp's fast gather path with finite-difference gradient tests.
//   - The output is a sigmoid, not tanh: the contract's samples are pixel
//     means in [0, 1] and every image data set here is in [0, 1]. Since
//     σ(a) = (1 + tanh(a/2))/2 and the discriminator reads its input as
//     2x − 1, this is the paper's tanh generator on data scaled to [−1, 1],
//     reparameterized, with no rescaling of the data or the samples.
//   - z ~ N(0, I) by default, where the paper draws U(−1, 1) (noise=uniform):
//     a normal z is what the PyTorch reference DCGAN uses and the VAE
//     families' prior, so the GAN-vs-VAE interpolations and traversals walk
//     the same kind of space; both train alike on MNIST.
//   - Batch norm is written here (batchNorm) rather than taken from GoMLX's
//     norm.BatchNorm, whose Go-backend training path (the backend's own
//     batch-norm ops are not implemented there) stops the gradient through
//     the batch statistics. The generator's keeps moving averages
//     (PyTorch's momentum 0.1) that evaluation graphs (compiled per
//     evaluation) normalize with; the discriminator's always uses the
//     batch's statistics (see batchNorm for why).
type DCGANConfig struct {
	GANNoise
	// Hidden are the generator's channels after the projection and after
	// each upsampling stage but the last (which outputs the image).
	Hidden []int `param:"hidden" range:"widths >= 1" help:"generator channels per resolution, lowest first: dense projection to (H/2^k)×(W/2^k)×hidden[0], then k nearest-2×-upsample + 5×5 conv stages (k = number of widths; H and W divisible by 2^k)"`
	// Disc is the discriminator: one strided 5×5 convolution per
	// disc_hidden width, and its Adam.
	Disc
	// Momentum is PyTorch's: running = (1 − momentum)·running + momentum·batch.
	Momentum float64 `param:"bn_momentum" range:"(0, 1]" help:"batch norm: weight of each batch's statistics in the moving averages that evaluation normalizes with"`
}

// dcganKernel is the paper's kernel size.
const dcganKernel = 5

// Validate checks the hyperparameters for the data set d.
func (c *DCGANConfig) Validate(d vae.Data) error {
	if err := c.GANNoise.Validate(); err != nil {
		return err
	}
	if err := ganData(d); err != nil {
		return err
	}
	if err := checkWidths("hidden", c.Hidden, "128,64"); err != nil {
		return err
	}
	if f := 1 << len(c.Hidden); d.Shape.Height%f != 0 || d.Shape.Width%f != 0 {
		return fmt.Errorf("hidden=%v upsamples %d times, so image height and width must be divisible by %d, but data %s is %d×%d: give fewer widths (e.g. hidden=128,64 needs divisibility by 4)",
			c.Hidden, len(c.Hidden), f, d.Name, d.Shape.Height, d.Shape.Width)
	}
	if !(c.Momentum > 0 && c.Momentum <= 1) {
		return fmt.Errorf("bn_momentum=%g: must be in (0, 1], e.g. 0.1", c.Momentum)
	}
	return c.Disc.Validate()
}

// Training is Adam(2e-4, β1 = 0.5) for both players, updated together on
// every batch, with the GAN alarms.
func (c *DCGANConfig) Training() Training { return ganTraining }

// Build constructs the model.
func (c *DCGANConfig) Build(d vae.Data) vae.Model {
	m := &DCGAN{cfg: *c, shape: d.Shape}
	m.ganCore = ganCore{noise: c.GANNoise, disc: c.Disc, generator: m.generate, discriminator: m.discriminate}
	return m
}

// DCGAN is the deep convolutional GAN.
type DCGAN struct {
	ganCore
	cfg   DCGANConfig
	shape vae.Shape
}

// generate maps noise z ([n, latent_dim]) to logits of images [n, H, W, C].
func (m *DCGAN) generate(scope *model.Scope, z *graph.Node) *graph.Node {
	s := scope.At(genScope)
	widths, k := m.cfg.Hidden, len(m.cfg.Hidden)
	h0, w0 := m.shape.Height>>k, m.shape.Width>>k
	y := graph.Reshape(vae.Dense(s.At("project"), z, h0*w0*widths[0], vae.InitDCGAN), -1, h0, w0, widths[0])
	y = activation.Relu(m.batchNorm(s.At("bn_0"), y, true))
	for i := range k {
		cout := m.shape.Channels
		if i+1 < k {
			cout = widths[i+1]
		}
		y = vae.UpsampleConv2D(s.At("conv_%d", i), y, cout, dcganKernel, vae.InitDCGAN)
		if i+1 < k {
			y = activation.Relu(m.batchNorm(s.At("bn_%d", i+1), y, true))
		}
	}
	return y
}

// discriminate returns D's logit ([B]) for each image of x ([B, H, W, C] in
// [−1, 1]).
func (m *DCGAN) discriminate(scope *model.Scope, x *graph.Node) *graph.Node {
	s := scope.At(discScope)
	y := x
	for i, w := range m.cfg.Disc.Hidden {
		y = vae.Conv2D(s.At("conv_%d", i), y, w, dcganKernel, 2, vae.InitDCGAN)
		if i > 0 {
			y = m.batchNorm(s.At("bn_%d", i), y, false)
		}
		y = LeakyReLU(y, 0.2)
	}
	y = vae.Flatten(y)
	return graph.Reshape(vae.Dense(s.At("logit"), y, 1, vae.InitDCGAN), -1)
}

// batchNorm is [batchNorm] with the config's momentum.
func (m *DCGAN) batchNorm(scope *model.Scope, x *graph.Node, moving bool) *graph.Node {
	return batchNorm(scope, x, m.cfg.Momentum, moving)
}
