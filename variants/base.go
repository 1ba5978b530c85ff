package variants

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

// Base holds the hyperparameters every image family shares: the size of the
// code, the networks and the likelihood.
type Base struct {
	LatentDim  int    `param:"latent_dim" range:">= 1" help:"dimension of the latent code z"`
	Hidden     []int  `param:"hidden" range:"widths >= 1" help:"hidden widths of the MLP encoder (the decoder mirrors them)"`
	Arch       string `param:"arch" range:"mlp" help:"encoder/decoder architecture"`
	Init       string `param:"init" range:"pytorch|he" help:"weight initialization: pytorch = U(±1/√fan_in) (nn.Linear's default), he = N(0, 2/fan_in) with zero biases"`
	Likelihood string `param:"likelihood" range:"bernoulli|gaussian" help:"p(x|z): bernoulli on grey levels (summed BCE), or gaussian with a learned shared variance"`
}

// defaultBase is the reference MNIST VAE: 784-400-20-400-784.
func defaultBase() Base {
	return Base{LatentDim: 20, Hidden: []int{400}, Arch: "mlp", Init: string(vae.InitPyTorch), Likelihood: "bernoulli"}
}

// Validate checks the shared hyperparameters.
func (b *Base) Validate(shape vae.Shape) error {
	if b.LatentDim < 1 {
		return fmt.Errorf("latent_dim=%d: must be >= 1", b.LatentDim)
	}
	for _, h := range b.Hidden {
		if h < 1 {
			return fmt.Errorf("hidden=%v: every width must be >= 1", b.Hidden)
		}
	}
	if b.Arch != "mlp" {
		return fmt.Errorf("arch=%q: must be mlp", b.Arch)
	}
	if _, err := vae.ParseInit(b.Init); err != nil {
		return err
	}
	if b.Likelihood != "bernoulli" && b.Likelihood != "gaussian" {
		return fmt.Errorf("likelihood=%q: must be bernoulli or gaussian", b.Likelihood)
	}
	if shape.Size() < 1 {
		return fmt.Errorf("data shape %+v has no pixels", shape)
	}
	return nil
}

// networks builds the encoder and decoder of b for one data shape. extraIn
// widens the encoder's and decoder's inputs with a conditioning vector (CVAE).
type networks struct {
	Base
	shape vae.Shape
}

// encode maps x ([B, H, W, C]) and an optional conditioning vector ([B, K])
// to out values per example.
func (n networks) encode(scope *model.Scope, x, cond *graph.Node, out int) *graph.Node {
	h := vae.Flatten(x)
	if cond != nil {
		h = graph.Concatenate([]*graph.Node{h, cond}, -1)
	}
	return vae.MLP(scope.At("encoder"), h, n.Hidden, out, vae.Init(n.Init))
}

// decode maps codes ([B, L]) and an optional conditioning vector to logits or
// means shaped like the data ([B, H, W, C]).
func (n networks) decode(scope *model.Scope, z, cond *graph.Node) *graph.Node {
	if cond != nil {
		z = graph.Concatenate([]*graph.Node{z, cond}, -1)
	}
	hidden := make([]int, len(n.Hidden))
	for i, h := range n.Hidden {
		hidden[len(hidden)-1-i] = h
	}
	out := vae.MLP(scope.At("decoder"), z, hidden, n.shape.Size(), vae.Init(n.Init))
	dims := append([]int{-1}, n.shape.Height, n.shape.Width, n.shape.Channels)
	return graph.Reshape(out, dims...)
}

// reconNLL is −log p(x | decoder output) per example, in nats.
func (n networks) reconNLL(scope *model.Scope, x, out *graph.Node) *graph.Node {
	if n.Likelihood == "gaussian" {
		mean := graph.Logistic(out)
		return graph.Neg(vae.GaussianLogLik(x, mean, n.logVar(scope, x.Graph())))
	}
	return graph.Neg(vae.BernoulliLogLik(x, out))
}

// mean turns decoder output into pixel means in [0, 1].
func (n networks) mean(out *graph.Node) *graph.Node { return graph.Logistic(out) }

// logVar is the Gaussian likelihood's learned, shared log-variance.
func (n networks) logVar(scope *model.Scope, g *graph.Graph) *graph.Node {
	v := scope.At("decoder").VariableWithValue("log_var", float32(-4)) // σ ≈ 0.14 of the [0,1] pixel range
	return v.NodeValue(g)
}
