package variants

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

// What the sequence families (vrnn, seq-vae) share: their hyperparameters,
// the per-frame networks (a feature extractor φx and a frame decoder, MLP or
// convolutional), the per-step likelihood, and graph helpers over the time
// axis. A batch of sequences is [B, T, H, W, C]; a time series of D values
// per step is T × 1 × 1 × D.

// SeqBase holds the hyperparameters every sequence family shares.
type SeqBase struct {
	LatentDim  int    `param:"latent_dim" range:">= 1" help:"dimension of each step's latent z_t"`
	State      int    `param:"state" range:">= 1" help:"units of the LSTM state"`
	Features   int    `param:"features" range:">= 1" help:"width of the feature extractors φx (per frame) and, in vrnn, φz (per latent)"`
	Hidden     []int  `param:"hidden" range:"widths >= 1" help:"hidden widths of the MLPs (φx with arch=mlp, posterior, prior, frame decoder)"`
	Arch       string `param:"arch" range:"mlp|conv" help:"frame networks: mlp, or conv (φx: two 3×3 stride-2 convolutions + Dense; decoder: Dense + two nearest-upsample 3×3 convolutions; needs frames with height and width divisible by 4)"`
	ConvWidths []int  `param:"conv_widths" range:"two widths >= 1" help:"channels of the conv architecture's two stages (full/2 and full/4 resolution)"`
	Init       string `param:"init" range:"pytorch|he" help:"weight initialization: pytorch = U(±1/√fan_in) (nn.Linear's and nn.LSTM's default), he = N(0, 2/fan_in) with zero biases"`
}

// defaultSeqBase suits the 1-digit Moving MNIST (10 frames of 32×32) and the
// synthetic series alike.
func defaultSeqBase() SeqBase {
	return SeqBase{LatentDim: 16, State: 128, Features: 128, Hidden: []int{256}, Arch: "mlp", ConvWidths: []int{32, 64}, Init: string(vae.InitPyTorch)}
}

// sequenceDataSets names the registered sequence data sets, for error messages.
const sequenceDataSets = "moving-mnist-1, moving-mnist, seq-mnist, sines or regimes"

// validate checks the shared hyperparameters for the data d.
func (b *SeqBase) validate(family string, d vae.Data) error {
	if !d.Shape.IsSequence() {
		return fmt.Errorf("data %s holds single images (%s); %s models sequences: choose a sequence data set (--data %s)", d.Name, d.Shape, family, sequenceDataSets)
	}
	if d.Shape.Size() < 1 {
		return fmt.Errorf("data %s has examples of shape %s, with no values", d.Name, d.Shape)
	}
	for name, v := range map[string]int{"latent_dim": b.LatentDim, "state": b.State, "features": b.Features} {
		if v < 1 {
			return fmt.Errorf("%s=%d: must be >= 1", name, v)
		}
	}
	return validateNets(b.Hidden, b.Arch, b.ConvWidths, b.Init, d)
}

// Training is every sequence family's: Adam(1e-3), one objective.
func (b *SeqBase) Training() Training { return DefaultTraining }

// frameNets are a sequence family's per-frame networks and likelihood for
// one data shape: Bernoulli pixels for intensities, a Gaussian with a
// per-value mean and log-variance for Real data.
type frameNets struct {
	SeqBase
	shape vae.Shape
	real  bool
}

func newFrameNets(b SeqBase, d vae.Data) frameNets {
	return frameNets{SeqBase: b, shape: d.Shape, real: d.Real}
}

func (n frameNets) init() vae.Init { return vae.Init(n.Init) }

func (n frameNets) conv() vae.ConvNet {
	return vae.ConvNet{Widths: [2]int{n.ConvWidths[0], n.ConvWidths[1]}, Init: n.init()}
}

// features is φx applied to each frame of x ([B, T, H, W, C]): one
// [B, Features] node per step, ReLU outputs.
//
// The frames are cut from the data (which needs no gradient) and each step's
// features are a node of their own: had φx run on all frames at once and
// the steps been sliced out of its [B, T, Features] output, the gradient of
// every slice would be a Pad back to the whole output, O(T²) per training
// step. Where a family needs all steps at once it stacks the per-step
// nodes, whose gradient is T slices of the incoming one: linear in T.
func (n frameNets) features(scope *model.Scope, x *graph.Node) []*graph.Node {
	t := x.Shape().Dimensions[1]
	out := make([]*graph.Node, t)
	for i := range t {
		frame := atStep(x, i)
		var f *graph.Node
		if n.Arch == "conv" {
			f = n.conv().Encoder(scope.At("phi_x"), frame, n.Features)
		} else {
			f = vae.MLP(scope.At("phi_x"), vae.Flatten(frame), n.Hidden, n.Features, n.init())
		}
		out[i] = activation.Relu(f)
	}
	return out
}

// paramsPerValue is how many decoder outputs each data value has: a logit, or a mean and a log-variance.
func (n frameNets) paramsPerValue() int {
	if n.real {
		return 2
	}
	return 1
}

// decodeFrames maps conditioning vectors ([N, K], one per frame) to the
// parameters of p(x_t | ·), [N, H, W, paramsPerValue·C] (logits; or means
// then log-variances along the channels).
func (n frameNets) decodeFrames(scope *model.Scope, cond *graph.Node) *graph.Node {
	scope = scope.At("decoder")
	sh := n.shape
	c := n.paramsPerValue() * sh.Channels
	if n.Arch == "conv" {
		return n.conv().Decoder(scope, cond, sh.Height, sh.Width, c)
	}
	out := vae.MLP(scope, cond, n.Hidden, sh.Height*sh.Width*c, n.init())
	return graph.Reshape(out, -1, sh.Height, sh.Width, c)
}

// gaussianParams splits Real decoder output into mean and log-variance.
func (n frameNets) gaussianParams(out *graph.Node) (mean, logVar *graph.Node) {
	c := n.shape.Channels
	mean = graph.Slice(out, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(), graph.AxisRange(0, c))
	logVar = graph.Slice(out, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(), graph.AxisRange(c, 2*c))
	return mean, logVar
}

// stepLogLik is log p(x_t | decoder output) per step: x is [B, T, H, W, C],
// out the decoder output of its B·T frames; the result is [B, T] nats.
func (n frameNets) stepLogLik(x, out *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	b, t := d[0], d[1]
	frames := graph.Reshape(x, b*t, n.shape.Height, n.shape.Width, n.shape.Channels)
	var ll *graph.Node
	if n.real {
		mean, logVar := n.gaussianParams(out)
		ll = vae.GaussianLogLik(frames, mean, logVar)
	} else {
		ll = vae.BernoulliLogLik(frames, out)
	}
	return graph.Reshape(ll, b, t)
}

// mean is E[x_t | ·] of decoder output: pixel means, or the Gaussian's mean.
func (n frameNets) mean(out *graph.Node) *graph.Node {
	if n.real {
		mean, _ := n.gaussianParams(out)
		return mean
	}
	return graph.Logistic(out)
}

// draw is what generation emits and reads back for decoder output: pixel
// means for intensities, a draw of x (mean + σ·ε) for Real data.
func (n frameNets) draw(scope *model.Scope, out *graph.Node) *graph.Node {
	if !n.real {
		return graph.Logistic(out)
	}
	mean, logVar := n.gaussianParams(out)
	return vae.Gaussian{Mean: mean, LogVar: logVar}.Sample(scope)
}

// frameDims is the shape of one frame, [H, W, C].
func (n frameNets) frameDims() []int { return []int{n.shape.Height, n.shape.Width, n.shape.Channels} }

// asSequences reshapes B·T frames ([B·T, H, W, C]) to [B, T, H, W, C].
func (n frameNets) asSequences(frames *graph.Node, b, t int) *graph.Node {
	return graph.Reshape(frames, append([]int{b, t}, n.frameDims()...)...)
}

// atStep is x[:, t] of a [B, T, ...] tensor, [B, ...].
func atStep(x *graph.Node, t int) *graph.Node {
	d := x.Shape().Dimensions
	s := graph.Slice(x, graph.AxisRange(), graph.AxisElem(t))
	return graph.Reshape(s, append([]int{d[0]}, d[2:]...)...)
}

// stackSteps stacks T nodes of [B, ...] into [B, T, ...].
func stackSteps(steps []*graph.Node) *graph.Node { return graph.Stack(steps, 1) }

// stackGaussians stacks per-step Gaussians ([B, D] each) into one [B, T, D].
func stackGaussians(steps []vae.Gaussian) vae.Gaussian {
	means, logVars := make([]*graph.Node, len(steps)), make([]*graph.Node, len(steps))
	for i, s := range steps {
		means[i], logVars[i] = s.Mean, s.LogVar
	}
	return vae.Gaussian{Mean: stackSteps(means), LogVar: stackSteps(logVars)}
}

// mergeSteps reshapes [B, T, ...] to [B·T, ...].
func mergeSteps(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	return graph.Reshape(x, append([]int{d[0] * d[1]}, d[2:]...)...)
}

// repeatBatch tiles x ([B, ...]) k times along the batch axis: [k·B, ...],
// copy j of example i at index j·B + i.
func repeatBatch(x *graph.Node, k int) *graph.Node {
	d := x.Shape().Dimensions
	tiled := graph.BroadcastToDims(graph.InsertAxes(x, 0), append([]int{k}, d...)...)
	return graph.Reshape(tiled, append([]int{k * d[0]}, d[1:]...)...)
}

// repeatSteps is repeatBatch of every step's node.
func repeatSteps(xs []*graph.Node, k int) []*graph.Node {
	out := make([]*graph.Node, len(xs))
	for i, x := range xs {
		out[i] = repeatBatch(x, k)
	}
	return out
}

// standardNormal is N(0, I) with the shape of [n, dim].
func standardNormal(g *graph.Graph, n, dim int) vae.Gaussian {
	z := graph.Zeros(g, shapes.Make(dtypes.Float32, n, dim))
	return vae.Gaussian{Mean: z, LogVar: z}
}
