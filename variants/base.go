package variants

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

// Base holds the hyperparameters every image family shares: the size of the
// code, the networks and the likelihood.
type Base struct {
	LatentDim  int    `param:"latent_dim" range:">= 1" help:"dimension of the latent code z"`
	Hidden     []int  `param:"hidden" range:"widths >= 1" help:"hidden widths of the MLP encoder (the decoder mirrors them)"`
	Arch       string `param:"arch" range:"mlp|conv" help:"encoder/decoder architecture: mlp (hidden widths), or conv (two 3×3 stride-2 convolutions, mirrored by nearest-upsample + 3×3 convolutions; needs height and width divisible by 4)"`
	ConvWidths []int  `param:"conv_widths" range:"two widths >= 1" help:"channels of the conv architecture's two stages (full/2 and full/4 resolution)"`
	Init       string `param:"init" range:"pytorch|he" help:"weight initialization: pytorch = U(±1/√fan_in) (nn.Linear's default), he = N(0, 2/fan_in) with zero biases"`
	Likelihood string `param:"likelihood" range:"bernoulli|gaussian" help:"p(x|z): bernoulli on grey levels (summed BCE), or gaussian with a learned shared variance"`
	Activation string `param:"activation" range:"relu|tanh" help:"activation of the MLP hidden layers (the conv architecture's convolutions keep relu)"`
}

// defaultBase is the reference MNIST VAE: 784-400-20-400-784.
func defaultBase() Base {
	return Base{LatentDim: 20, Hidden: []int{400}, Arch: "mlp", ConvWidths: []int{32, 64}, Init: string(vae.InitPyTorch), Likelihood: "bernoulli", Activation: "relu"}
}

// Validate checks the shared hyperparameters.
func (b *Base) Validate(d vae.Data) error {
	if b.LatentDim < 1 {
		return fmt.Errorf("latent_dim=%d: must be >= 1", b.LatentDim)
	}
	if err := validateNets(b.Hidden, b.Arch, b.ConvWidths, b.Init, d); err != nil {
		return err
	}
	if _, ok := vae.Activations[b.Activation]; !ok {
		return fmt.Errorf("activation=%q: must be relu or tanh", b.Activation)
	}
	if b.Likelihood != "bernoulli" && b.Likelihood != "gaussian" {
		return fmt.Errorf("likelihood=%q: must be bernoulli or gaussian", b.Likelihood)
	}
	if d.Shape.Size() < 1 {
		return fmt.Errorf("data %s has examples of shape %s, with no values", d.Name, d.Shape)
	}
	if d.Shape.IsSequence() {
		return fmt.Errorf("data %s holds sequences (%s); this family models single images: use a sequence family such as vrnn, or an image data set", d.Name, d.Shape)
	}
	return nil
}

// validateNets checks the network hyperparameters every family shares: MLP
// widths, the architecture (conv needs images, or frames, whose height and
// width are divisible by 4) and the initialization.
func validateNets(hidden []int, arch string, convWidths []int, init string, d vae.Data) error {
	if err := checkPositive("hidden", hidden, "width"); err != nil {
		return err
	}
	switch arch {
	case "mlp":
	case "conv":
		if len(convWidths) != 2 || convWidths[0] < 1 || convWidths[1] < 1 {
			return fmt.Errorf("conv_widths=%v: want two widths >= 1, e.g. 32,64", convWidths)
		}
		if sh := d.Shape; sh.Height%4 != 0 || sh.Width%4 != 0 {
			return fmt.Errorf("arch=conv needs image height and width divisible by 4, the data %s is %dx%d: use arch=mlp", d.Name, sh.Height, sh.Width)
		}
	default:
		return fmt.Errorf("arch=%q: must be mlp or conv", arch)
	}
	_, err := vae.ParseInit(init)
	return err
}

// checkPositive reports the list param if one of its values is below 1;
// noun names the values in the message ("width", "size"). An empty list passes.
func checkPositive(param string, vals []int, noun string) error {
	for _, v := range vals {
		if v < 1 {
			return fmt.Errorf("%s=%v: every %s must be >= 1", param, vals, noun)
		}
	}
	return nil
}

// Training is every VAE family's: Adam(1e-3), all objectives each step.
func (b *Base) Training() Training { return DefaultTraining }

// networks builds the encoder and decoder of b for one data shape. extraIn
// widens the encoder's and decoder's inputs with a conditioning vector (CVAE).
type networks struct {
	Base
	shape   vae.Shape
	classes int
}

func newNetworks(b Base, d vae.Data) networks {
	return networks{Base: b, shape: d.Shape, classes: d.Classes}
}

// encode maps x ([B, H, W, C]) and an optional conditioning vector ([B, K])
// to out values per example. The conv architecture sees the conditioning
// vector as K constant extra image channels.
func (n networks) encode(scope *model.Scope, x, cond *graph.Node, out int) *graph.Node {
	scope = scope.At("encoder")
	if n.Arch == "conv" {
		if cond != nil {
			dims := x.Shape().Dimensions
			planes := graph.BroadcastToDims(graph.Reshape(cond, dims[0], 1, 1, -1), dims[0], dims[1], dims[2], cond.Shape().Dimensions[1])
			x = graph.Concatenate([]*graph.Node{x, planes}, -1)
		}
		return n.conv().Encoder(scope, x, out)
	}
	h := vae.Flatten(x)
	if cond != nil {
		h = graph.Concatenate([]*graph.Node{h, cond}, -1)
	}
	return vae.MLPAct(scope, h, n.Hidden, out, vae.Init(n.Init), n.act())
}

// decode maps codes ([B, L]) and an optional conditioning vector to logits or
// means shaped like the data ([B, H, W, C]).
func (n networks) decode(scope *model.Scope, z, cond *graph.Node) *graph.Node {
	scope = scope.At("decoder")
	if cond != nil {
		z = graph.Concatenate([]*graph.Node{z, cond}, -1)
	}
	if n.Arch == "conv" {
		return n.conv().Decoder(scope, z, n.shape.Height, n.shape.Width, n.shape.Channels)
	}
	hidden := make([]int, len(n.Hidden))
	for i, h := range n.Hidden {
		hidden[len(hidden)-1-i] = h
	}
	out := vae.MLPAct(scope, z, hidden, n.shape.Size(), vae.Init(n.Init), n.act())
	return graph.Reshape(out, -1, n.shape.Height, n.shape.Width, n.shape.Channels)
}

// decoderLayers describes the MLP decoder for the fused likelihood estimate
// (vae.BernoulliMLP); ok is false for the conv architecture or a Gaussian
// likelihood.
func (n networks) decoderLayers() (layers []vae.DenseLayer, ok bool) {
	if n.Arch != "mlp" || n.Likelihood != "bernoulli" {
		return nil, false
	}
	return mlpLayers("decoder", len(n.Hidden), n.act()), true
}

// mlpLayers names the layers vae.MLPAct builds under scope with that many
// hidden layers.
func mlpLayers(scope string, hidden int, act activation.Type) []vae.DenseLayer {
	out := make([]vae.DenseLayer, hidden+1)
	for i := range out {
		out[i] = vae.DenseLayer{Scope: fmt.Sprintf("%s/layer_%d", scope, i), Activation: act}
	}
	out[hidden].Activation = activation.TypeNone
	return out
}

// act is the MLP hidden layers' activation.
func (n networks) act() activation.Type { return vae.Activations[n.Activation] }

// conv is the convolutional encoder/decoder pair of the conv architecture.
func (n networks) conv() vae.ConvNet {
	return vae.ConvNet{Widths: [2]int{n.ConvWidths[0], n.ConvWidths[1]}, Init: vae.Init(n.Init)}
}

// reconNLL is −log p(x | decoder output) per example, in nats.
func (n networks) reconNLL(scope *model.Scope, x, out *graph.Node) *graph.Node {
	if n.Likelihood == "gaussian" {
		mean := graph.Logistic(out)
		return graph.Neg(vae.GaussianLogLik(x, mean, n.logVar(scope, x.Graph())))
	}
	return graph.Neg(vae.BernoulliLogLik(x, out))
}

// Decode implements vae.Decoder for every family built on these networks
// (conditional ones override it): pixel means of p(x | z).
func (n networks) Decode(scope *model.Scope, z, _ *graph.Node) *graph.Node {
	return n.mean(n.decode(scope, z, nil))
}

// mean turns decoder output into pixel means in [0, 1].
func (n networks) mean(out *graph.Node) *graph.Node { return graph.Logistic(out) }

// logVar is the Gaussian likelihood's learned, shared log-variance.
func (n networks) logVar(scope *model.Scope, g *graph.Graph) *graph.Node {
	v := scope.At("decoder").VariableWithValue("log_var", float32(-4)) // σ ≈ 0.14 of the [0,1] pixel range
	return v.NodeValue(g)
}
