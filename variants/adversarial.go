package variants

import (
	"fmt"
	"math"

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
	Hidden []int   `param:"disc_hidden" range:"widths >= 1" help:"hidden widths of the discriminator (an MLP with LeakyReLU 0.2 for code discriminators)"`
	LR     float64 `param:"disc_lr" range:"> 0" help:"learning rate of the discriminator's Adam"`
	Beta1  float64 `param:"disc_beta1" range:"(0, 1)" help:"β1 of the discriminator's Adam"`
	Beta2  float64 `param:"disc_beta2" range:"(0, 1)" help:"β2 of the discriminator's Adam"`
}

// Validate checks the discriminator's hyperparameters.
func (d Disc) Validate() error {
	if len(d.Hidden) == 0 {
		return fmt.Errorf("disc_hidden is empty: give at least one width >= 1, e.g. 256,256")
	}
	for _, h := range d.Hidden {
		if h < 1 {
			return fmt.Errorf("disc_hidden=%v: every width must be >= 1", d.Hidden)
		}
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
	s := scope.At(discScope)
	h := x
	for i, w := range d.Hidden {
		h = LeakyReLU(vae.Dense(s.At("layer_%d", i), h, w, init), 0.2)
	}
	out := vae.Dense(s.At("layer_%d", len(d.Hidden)), h, 1, init)
	return graph.Reshape(out, -1)
}

// LeakyReLU is max(x, slope·x) for 0 < slope < 1: without a select, since Max
// has a SIMD kernel on the Go backend.
func LeakyReLU(x *graph.Node, slope float64) *graph.Node {
	return graph.Max(x, graph.MulScalar(x, slope))
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
