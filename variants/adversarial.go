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

// What the adversarial families share — FactorVAE and AAE (a discriminator
// on codes) and the GANs (a discriminator on examples): the discriminator's
// hyperparameters and optimizer, its MLP, and the two sides of the
// non-saturating GAN loss. The discriminator is always an auxiliary objective
// ([vae.AuxObjective]) trained by its own Adam on the variables under
// discScope; the main objective never updates them.

// discScope names the sub-scope holding an adversarial family's discriminator.
const discScope = "discriminator"

// Disc is an adversarial family's discriminator: embedded in its config, it
// adds the disc_* hyperparameters. Each family's doc comment says how its
// defaults relate to its paper.
type Disc struct {
	Hidden []int   `param:"disc_hidden" range:"widths >= 1" help:"hidden widths of the discriminator: its MLP layers (LeakyReLU 0.2), or for dcgan the channels of its strided 5×5 convolutions"`
	LR     float64 `param:"disc_lr" range:"> 0" help:"learning rate of the discriminator's Adam"`
	Beta1  float64 `param:"disc_beta1" range:"(0, 1)" help:"β1 of the discriminator's Adam"`
	Beta2  float64 `param:"disc_beta2" range:"(0, 1)" help:"β2 of the discriminator's Adam"`
}

// Validate checks the discriminator's hyperparameters.
func (d Disc) Validate() error {
	if err := checkWidths("disc_hidden", d.Hidden, "256,256"); err != nil {
		return err
	}
	if !(d.LR > 0) || math.IsInf(d.LR, 0) {
		return fmt.Errorf("disc_lr=%g: must be > 0 and finite", d.LR)
	}
	if !(d.Beta1 > 0 && d.Beta1 < 1) {
		return fmt.Errorf("disc_beta1=%g: must be in (0, 1)", d.Beta1)
	}
	if !(d.Beta2 > 0 && d.Beta2 < 1) {
		return fmt.Errorf("disc_beta2=%g: must be in (0, 1)", d.Beta2)
	}
	return nil
}

// Objective is the discriminator's loss as an auxiliary objective with its Adam.
func (d Disc) Objective(loss *graph.Node) vae.AuxObjective {
	return vae.AuxObjective{Scope: discScope, Loss: loss, LearningRate: d.LR, Beta1: d.Beta1, Beta2: d.Beta2}
}

// MLP is the discriminator as an MLP with LeakyReLU(0.2) hidden layers (Kim &
// Mnih's choice), built under the model scope's discriminator sub-scope:
// inputs [N, D] to one logit each, [N].
func (d Disc) MLP(scope *model.Scope, x *graph.Node, init vae.Init) *graph.Node {
	return d.MLPDropout(scope, x, init, 0)
}

// MLPDropout is [Disc.MLP] with dropout at the given rate after each hidden
// layer in training graphs (Goodfellow et al.'s GAN discriminator).
func (d Disc) MLPDropout(scope *model.Scope, x *graph.Node, init vae.Init, rate float64) *graph.Node {
	s := scope.At(discScope)
	h := x
	for i, w := range d.Hidden {
		h = dropout(scope, LeakyReLU(vae.Dense(s.At("layer_%d", i), h, w, init), 0.2), rate)
	}
	out := vae.Dense(s.At("layer_%d", len(d.Hidden)), h, 1, init)
	return graph.Reshape(out, -1)
}

// LeakyReLU is max(x, slope·x) for 0 < slope < 1: without a select, since Max
// has a SIMD kernel on the Go backend.
func LeakyReLU(x *graph.Node, slope float64) *graph.Node {
	return graph.Max(x, graph.MulScalar(x, slope))
}

// dropout zeroes each value of x with probability rate and scales the rest
// by 1/(1 − rate), in training graphs only. The mask is sign(max(u − rate,
// 0)) for u ~ U[0, 1): ops with SIMD kernels on the Go backend, where
// GoMLX's layers.Dropout selects with Where (a scalar loop there).
func dropout(scope *model.Scope, x *graph.Node, rate float64) *graph.Node {
	g := x.Graph()
	if rate <= 0 || !scope.IsTraining(g) {
		return x
	}
	u := scope.RandomUniform(g, x.Shape())
	keep := graph.Sign(graph.Max(graph.AddScalar(u, -rate), graph.ZerosLike(u)))
	return graph.Mul(x, graph.StopGradient(graph.MulScalar(keep, 1/(1-rate))))
}

// DiscriminatorLoss is the binary cross-entropy of a discriminator that
// should output 1 on real and 0 on fake, averaging the two halves equally
// (a scalar, nats), and its accuracy (a scalar in [0, 1]).
func DiscriminatorLoss(realLogits, fakeLogits *graph.Node) (loss, acc *graph.Node) {
	lossReal := graph.ReduceAllMean(vae.BCEWithLogits(graph.OnesLike(realLogits), realLogits))
	lossFake := graph.ReduceAllMean(vae.BCEWithLogits(graph.ZerosLike(fakeLogits), fakeLogits))
	loss = graph.MulScalar(graph.Add(lossReal, lossFake), 0.5)
	dtype := realLogits.DType()
	accReal := graph.ReduceAllMean(graph.ConvertDType(graph.GreaterThan(realLogits, graph.ZerosLike(realLogits)), dtype))
	accFake := graph.ReduceAllMean(graph.ConvertDType(graph.LessOrEqual(fakeLogits, graph.ZerosLike(fakeLogits)), dtype))
	acc = graph.MulScalar(graph.Add(accReal, accFake), 0.5)
	return loss, acc
}

// GeneratorLoss is the non-saturating generator loss −log D(fake) per
// example (Goodfellow et al. 2014, §3): the generator wants its outputs
// called real.
func GeneratorLoss(fakeLogits *graph.Node) *graph.Node {
	return vae.BCEWithLogits(graph.OnesLike(fakeLogits), fakeLogits)
}

// What the GANs (gan, dcgan) share besides the discriminator: their noise,
// the terms they record, their training and their alarms.

// genScope names the sub-scope holding a GAN's generator.
const genScope = "generator"

// GANNoise is a GAN's latent noise: embedded in its config, it adds the
// latent_dim and noise hyperparameters.
type GANNoise struct {
	LatentDim int    `param:"latent_dim" range:">= 1" help:"dimension of the generator's input noise z"`
	Noise     string `param:"noise" range:"normal|uniform" help:"distribution of z: normal = N(0, I), uniform = U(−1, 1) per dimension (the DCGAN paper's)"`
}

// Validate checks the noise hyperparameters.
func (n GANNoise) Validate() error {
	if n.LatentDim < 1 {
		return fmt.Errorf("latent_dim=%d: must be >= 1, e.g. 100", n.LatentDim)
	}
	if n.Noise != "normal" && n.Noise != "uniform" {
		return fmt.Errorf("noise=%q: must be normal or uniform", n.Noise)
	}
	return nil
}

// Sample draws n noise vectors, [n, LatentDim], from the store's RNG.
func (n GANNoise) Sample(scope *model.Scope, g *graph.Graph, count int) *graph.Node {
	shape := shapes.Make(dtypes.Float32, count, n.LatentDim)
	if n.Noise == "uniform" {
		return graph.AddScalar(graph.MulScalar(scope.RandomUniform(g, shape), 2), -1)
	}
	return scope.RandomNormal(g, shape)
}

// ganTraining is both GANs' training: Adam(2e-4, β1 = 0.5) for the generator
// (Radford et al.'s setting; the discriminator's Adam is in [Disc]), one
// simultaneous update of both players per batch, and the alarms of
// [ganAlarms].
var ganTraining = Training{LR: 2e-4, Beta1: 0.5, Beta2: 0.999, AuxSteps: 1, Alarms: ganAlarms}

// ganAlarms tag a GAN run whose training failed, from its recorded terms.
// The thresholds sit far outside what a healthy run records: over its
// first 1000 steps on MNIST the default DCGAN kept d_fake within
// 0.03–0.80, gen below 3.8 and fake_spread above 0.43, while an MLP GAN
// whose samples collapsed (diversity 0.08 at epoch 1) kept fake_spread
// below 0.2 for over 800 consecutive steps.
var ganAlarms = []Alarm{
	{Name: "d_wins", Term: "d_fake", Below: true, Threshold: 0.01, Steps: 300,
		Meaning: "the discriminator wins outright: it calls every generated example fake"},
	{Name: "g_loss_explodes", Term: "gen", Threshold: 10, Steps: 100,
		Meaning: "the generator's loss −log D(G(z)) exploded"},
	{Name: "batch_collapse", Term: "fake_spread", Below: true, Threshold: 0.2, Steps: 200,
		Meaning: "the generator's batches have collapsed to near-copies (mode collapse)"},
}

// ganCore is what both GAN models share: given a family's two networks it
// provides the contract's Loss and Generate and the Decoder capability.
type ganCore struct {
	noise GANNoise
	disc  Disc
	// generator maps noise z ([n, latent_dim]) to the logits of images
	// [n, H, W, C] (G's output is their sigmoid).
	generator func(scope *model.Scope, z *graph.Node) *graph.Node
	// discriminator maps images [B, H, W, C] scaled to [−1, 1] to one logit
	// each, [B]. Reading 2x − 1 makes G's sigmoid output σ(a) =
	// (1 + tanh(a/2))/2 the DCGAN paper's tanh generator on data in [−1, 1],
	// reparameterized, while data and samples stay in [0, 1].
	discriminator func(scope *model.Scope, x *graph.Node) *graph.Node
}

// discriminate is D's logit for each image of x ([B, H, W, C] in [0, 1]).
func (m *ganCore) discriminate(scope *model.Scope, x *graph.Node) *graph.Node {
	return m.discriminator(scope, graph.AddScalar(graph.MulScalar(x, 2), -1))
}

// Loss is a GAN's objective for the real batch b.X and a generated batch
// of the same size, D seeing each in its own pass (so a discriminator with
// batch norm normalizes each by its own statistics). Terms: "gen" =
// −log D(G(z)) per example, the non-saturating generator loss (weight 1,
// the main objective, which trains only the generator); and diagnostics
// of weight 0: "disc", the discriminator's binary cross-entropy averaged
// over its real and fake halves (its auxiliary objective); "d_real" =
// mean D(x) and "d_fake" = mean D(G(z)) as probabilities; "disc_acc", the
// discriminator's accuracy; "fake_spread", the generated batch's mean
// per-pixel standard deviation over the real batch's (1: as varied as the
// data; near 0: mode collapse within the batch).
//
// Both players' updates come from the same discriminator pass over the
// fakes: the driver differentiates "gen" only with respect to the
// generator and "disc" only with respect to the discriminator, a
// simultaneous update from the pre-step values.
func (m *ganCore) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	fake := m.Decode(scope, m.noise.Sample(scope, b.X.Graph(), b.Size()), nil)
	realLogits, fakeLogits := m.discriminate(scope, b.X), m.discriminate(scope, fake)
	disc, acc := DiscriminatorLoss(realLogits, fakeLogits)
	return vae.Loss{
		Terms: []vae.Term{
			{Name: "gen", Value: GeneratorLoss(fakeLogits), Weight: 1},
			{Name: "disc", Value: disc, Weight: 0},
			{Name: "d_real", Value: graph.ReduceAllMean(graph.Logistic(graph.StopGradient(realLogits)))},
			{Name: "d_fake", Value: graph.ReduceAllMean(graph.Logistic(graph.StopGradient(fakeLogits)))},
			{Name: "disc_acc", Value: acc},
			{Name: "fake_spread", Value: graph.Div(batchSpread(fake), batchSpread(b.X))},
		},
		Aux: []vae.AuxObjective{m.disc.Objective(disc)},
	}
}

// Generate decodes fresh noise.
func (m *ganCore) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	return m.Decode(scope, m.noise.Sample(scope, g, n), nil)
}

// Decode is G(z): pixel means [n, H, W, C] for noise vectors z ([n,
// latent_dim]), for interpolations and traversals of the noise space.
func (m *ganCore) Decode(scope *model.Scope, z, _ *graph.Node) *graph.Node {
	return graph.Logistic(m.generator(scope, z))
}

// checkWidths reports an empty list of layer widths or a width below 1,
// naming the hyperparameter and giving an example.
func checkWidths(param string, widths []int, example string) error {
	if len(widths) == 0 {
		return fmt.Errorf("%s is empty: give at least one width >= 1, e.g. %s", param, example)
	}
	return checkPositive(param, widths, "width")
}

// batchSpread is the standard deviation over the batch of each value of x
// ([B, ...]), averaged over the values: a scalar.
func batchSpread(x *graph.Node) *graph.Node {
	x = vae.Flatten(graph.StopGradient(x))
	centred := graph.Sub(x, graph.ReduceAndKeep(x, graph.ReduceMean, 0))
	return graph.ReduceAllMean(graph.Sqrt(graph.ReduceMean(graph.Square(centred), 0)))
}

// batchNorm normalizes x ([B, ..., C]) per channel over every other axis
// with the batch's mean and (biased) variance — the gradient flowing
// through both, as in Ioffe & Szegedy (2015) — then applies a learned
// per-channel scale ("scale", from 1) and offset ("offset", from 0).
//
// With moving (the generators' layers), training graphs also update moving
// averages (weight momentum for each batch) ("mean", unbiased "variance": PyTorch's convention), and graphs
// outside training normalize with them instead, so that a sample depends
// on its own z only. Without (the discriminator's), every graph uses the
// batch's statistics: the discriminator exists for training, where it
// normalizes each real and each generated batch by its own statistics, and
// moving averages would mix the two, so the terms evaluated on the test
// set (d_real, d_fake, ...) would describe a discriminator that training
// never used. This is the PyTorch reference's behaviour, whose
// discriminator never leaves training mode.
//
// Written here because GoMLX's norm.BatchNorm stops the gradient through
// the batch statistics on the Go backend (see [DCGANConfig]). Shared by
// the GANs: dcgan's convolutions and gan's dense layers ([B, C]).
func batchNorm(scope *model.Scope, x *graph.Node, momentum float64, moving bool) *graph.Node {
	const eps = 1e-5 // PyTorch's
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	shape := shapes.Make(x.DType(), c)
	ones := func(g *graph.Graph, s shapes.Shape) *graph.Node { return graph.Ones(g, s) }
	zeros := func(g *graph.Graph, s shapes.Shape) *graph.Node { return graph.Zeros(g, s) }
	scale := scope.WithInitializer(ones).VariableWithShape("scale", shape).NodeValue(g)
	offset := scope.WithInitializer(zeros).VariableWithShape("offset", shape).NodeValue(g)
	flat := graph.Reshape(x, -1, c) // [N, C]: the statistics reduce the leading axis
	var mean, variance *graph.Node
	if !moving || scope.IsTraining(g) {
		mean = graph.ReduceMean(flat, 0)
		variance = graph.ReduceMean(graph.Square(graph.Sub(flat, graph.ExpandAxes(mean, 0))), 0)
	}
	if moving {
		runMean := scope.WithInitializer(zeros).VariableWithShape("mean", shape).SetTrainable(false)
		runVar := scope.WithInitializer(ones).VariableWithShape("variance", shape).SetTrainable(false)
		if scope.IsTraining(g) {
			n, mom := flat.Shape().Dimensions[0], momentum
			update := func(v *model.Variable, batch *graph.Node) {
				v.SetNodeValue(graph.Add(graph.MulScalar(v.NodeValue(g), 1-mom), graph.MulScalar(graph.StopGradient(batch), mom)))
			}
			update(runMean, mean)
			update(runVar, graph.MulScalar(variance, float64(n)/float64(max(n-1, 1))))
		} else {
			mean, variance = runMean.NodeValue(g), runVar.NodeValue(g)
		}
	}
	// y = (x − mean)·k + offset with k = scale/√(variance + eps), per channel.
	k := graph.Div(scale, graph.Sqrt(graph.AddScalar(variance, eps)))
	row := func(v *graph.Node) *graph.Node { return graph.ExpandAxes(v, 0) } // [C] → [1, C]
	y := graph.Add(graph.Mul(graph.Sub(flat, row(mean)), row(k)), row(offset))
	return graph.Reshape(y, x.Shape().Dimensions...)
}
