package vae

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
)

// Convolutions for 28×28-class images on GoMLX's pure-Go backend.
//
// Every formulation stores the same variables under its scope, "weights"
// [k, k, C_in, C_out] (HWIO, the layout of layers.Convolution and
// graph.Convolve's default) and "biases" [C_out], so they are
// interchangeable and checkpoint-compatible. Padding is PyTorch's
// padding=(k−1)/2 on both sides, so a stride-s convolution maps H to
// ⌊(H−1)/s⌋+1 (28 → 14 → 7 for s=2). Kernels must be odd.
//
// How the fast path (ConvGather, conv_gather.go) is built, from pprof of a
// training step on compute v0.1.14: graph.Convolve runs scalar loops; Slice
// (and so the gradient of Pad and Concatenate) is a scalar per-element loop;
// GatherSlices copies contiguous runs with memmove and ScatterSum adds them
// with SIMD; DotGeneral is an AVX-512 GEMM (8×32 output tiles) when its
// operands are in one of two layouts, else the backend transposes them first.
// So a stride-s convolution is one GatherSlices (the patch matrix) and one
// MatMul; a nearest 2× upsample followed by a convolution is one MatMul and
// one ScatterSum (a transposed convolution, no upsampled tensor); and both
// carry hand-written gradients in the GEMM's native layouts, because GoMLX's
// generic ones (identity transposes, transposes of the patch matrix, Slice
// crops) cost more than the convolutions themselves.

// ConvImpl selects how a convolution is computed; all give the same values.
type ConvImpl string

const (
	// ConvGather builds the patch matrix with one GatherSlices and multiplies
	// it with the kernel in one MatMul; an upsample followed by a convolution
	// is one MatMul and one ScatterSum at the low resolution (see
	// UpsampleConv2D); gradients are hand-written. The default, and the
	// fastest on the Go backend.
	ConvGather ConvImpl = "gather"
	// ConvIm2Col builds the patch matrix from k² strided Slices concatenated
	// along channels, then one MatMul, with GoMLX's gradients; upsampling is
	// materialized. The straightforward im2col, kept as a benchmark reference.
	ConvIm2Col ConvImpl = "im2col"
	// ConvNative uses graph.Convolve (scalar convolution kernels on the Go
	// backend; fine on XLA). Its input gradient is wrong for even kernels in
	// gomlx v0.28.16, which is why kernels here must be odd.
	ConvNative ConvImpl = "native"
)

// convGatherAutodiff is ConvGather's patch matrix (and the sub-pixel
// decoder) with GoMLX's own gradients of GatherSlices, Pad and MatMul
// instead of patchMatMul's: kept for the benchmark that shows what the
// hand-written gradients save.
const convGatherAutodiff ConvImpl = "gather-autodiff"

// convSubPixel is ConvGather with the decoder's upsample + convolution
// computed as a sub-pixel convolution (im2col of x, a [9·C_in, 4·C_out]
// kernel with 5/9 structural zeros, depth-to-space) instead of the transposed
// convolution of upsampleConvScatter: kept for the benchmark.
const convSubPixel ConvImpl = "subpixel"

// ConvImpls lists the valid formulations.
var ConvImpls = []ConvImpl{ConvGather, ConvIm2Col, ConvNative}

// ConvNet is the small convolutional encoder/decoder pair for images whose
// height and width are divisible by 4 (e.g. 28×28 MNIST). The zero value is
// the default network: widths 32 and 64, PyTorch init, ConvGather.
type ConvNet struct {
	// Widths are the channels of the first (full/2 resolution) and second
	// (full/4 resolution) stages; zero means 32 and 64.
	Widths [2]int
	// Init selects the weight initialization of every layer; "" means InitPyTorch.
	Init Init
	// Impl selects the convolution formulation; "" means ConvGather.
	Impl ConvImpl
}

func (n ConvNet) widths() (int, int) {
	w1, w2 := n.Widths[0], n.Widths[1]
	if w1 <= 0 {
		w1 = 32
	}
	if w2 <= 0 {
		w2 = 64
	}
	return w1, w2
}

func (n ConvNet) init() Init {
	if n.Init == "" {
		return InitPyTorch
	}
	return n.Init
}

func (n ConvNet) impl() ConvImpl {
	if n.Impl == "" {
		return ConvGather
	}
	return n.Impl
}

// Encoder maps images [B, H, W, C] to [B, out]: conv 3×3 stride 2 (→ Widths[0])
// + ReLU, conv 3×3 stride 2 (→ Widths[1]) + ReLU, flatten, Dense → out.
// Variables live under scope's "conv_0", "conv_1" and "dense".
func (n ConvNet) Encoder(scope *model.Scope, x *graph.Node, out int) *graph.Node {
	checkImage(x)
	w1, w2 := n.widths()
	h := activation.Relu(conv2D(scope.At("conv_0"), x, w1, 3, 2, n.init(), n.impl()))
	h = activation.Relu(conv2D(scope.At("conv_1"), h, w2, 3, 2, n.init(), n.impl()))
	return Dense(scope.At("dense"), Flatten(h), out, n.init())
}

// Decoder maps codes [B, L] to logits [B, h, w, c]: Dense → (h/4)×(w/4)×Widths[1]
// + ReLU, nearest 2× upsample + conv 3×3 (→ Widths[0]) + ReLU, nearest 2×
// upsample + conv 3×3 (→ c, no activation). Variables live under scope's
// "dense", "conv_0" and "conv_1". h and w must be divisible by 4.
func (n ConvNet) Decoder(scope *model.Scope, z *graph.Node, h, w, c int) *graph.Node {
	if h%4 != 0 || w%4 != 0 || h <= 0 || w <= 0 || c <= 0 {
		exceptionf("ConvDecoder: output %d×%d×%d must have positive sizes with height and width divisible by 4", h, w, c)
	}
	w1, w2 := n.widths()
	init, impl := n.init(), n.impl()
	y := activation.Relu(Dense(scope.At("dense"), z, h/4*w/4*w2, init))
	y = graph.Reshape(y, -1, h/4, w/4, w2)
	y = activation.Relu(upsampleConv(scope.At("conv_0"), y, w1, 3, init, impl))
	return upsampleConv(scope.At("conv_1"), y, c, 3, init, impl)
}

// ConvEncoder maps images [B, H, W, C] (H, W divisible by 4) to [B, out] with
// the default ConvNet: two 3×3 stride-2 convolutions (32 and 64 channels) with
// ReLU, then a Dense layer.
func ConvEncoder(scope *model.Scope, x *graph.Node, out int, init Init) *graph.Node {
	return ConvNet{Init: init}.Encoder(scope, x, out)
}

// ConvDecoder maps codes [B, L] to logits [B, h, w, c] with the default
// ConvNet: Dense to (h/4)×(w/4)×64, then twice a nearest 2× upsample and a 3×3
// convolution (32, then c channels), ReLU between.
func ConvDecoder(scope *model.Scope, z *graph.Node, h, w, c int, init Init) *graph.Node {
	return ConvNet{Init: init}.Decoder(scope, z, h, w, c)
}

// Conv2D is a k×k (odd k) convolution with bias over NHWC input, "same"
// padding ((k−1)/2 on every side, as PyTorch's padding=k//2), stride 1 or 2
// (any stride ≥ 1 works). It creates "weights" [k, k, C_in, channels] and
// "biases" [channels] under scope, initialized by init with fan_in = k·k·C_in.
// Output: [B, ⌊(H−1)/stride⌋+1, ⌊(W−1)/stride⌋+1, channels].
func Conv2D(scope *model.Scope, x *graph.Node, channels, kernel, stride int, init Init) *graph.Node {
	return conv2D(scope, x, channels, kernel, stride, init, ConvGather)
}

// Conv2DWith is Conv2D computed with the given formulation.
func Conv2DWith(scope *model.Scope, x *graph.Node, channels, kernel, stride int, init Init, impl ConvImpl) *graph.Node {
	return conv2D(scope, x, channels, kernel, stride, init, impl)
}

// Upsample2x doubles H and W of [B, H, W, C] by nearest-neighbour repetition
// (PyTorch's nn.Upsample(scale_factor=2, mode="nearest")): nearest rather than
// depth-to-space because it keeps every channel for the convolution that
// follows, as in the PyTorch reference model. It is one Gather of C-value rows
// (constant indices), whose gradient is one SIMD ScatterSum: on the Go backend
// a broadcast-and-reshape upsample is several times slower, its gradient
// being a reduction over non-trailing axes. A decoder need not materialize it
// at all: UpsampleConv2D computes Upsample2x followed by a convolution at the
// input's resolution.
func Upsample2x(x *graph.Node) *graph.Node {
	checkImage(x)
	d := x.Shape().Dimensions
	b, h, w := d[0], d[1], d[2]
	idx := make([]int32, 0, b*4*h*w*3)
	for bi := range b {
		for i := range 2 * h {
			for j := range 2 * w {
				idx = append(idx, int32(bi), int32(i/2), int32(j/2))
			}
		}
	}
	return graph.Gather(x, graph.Const(x.Graph(), tensors.FromFlatDataAndDimensions(idx, b, 2*h, 2*w, 3)), true)
}

// UpsampleConv2D equals Conv2D(scope, Upsample2x(x), channels, kernel, 1, init)
// — same variables, same values — without building the upsampled image: a
// nearest 2× upsample followed by a k×k convolution is a stride-2 transposed
// convolution with a (k+1)×(k+1) kernel whose taps are sums of the k×k ones,
// computed as one MatMul of x's pixels with that kernel and one ScatterSum
// of the (k+1)×(k+1) output blocks (col2im). Against im2col of the upsampled
// image it moves (k+1)²·channels values per input pixel instead of
// 4·k²·C_in and multiplies no structural zeros.
func UpsampleConv2D(scope *model.Scope, x *graph.Node, channels, kernel int, init Init) *graph.Node {
	return upsampleConv(scope, x, channels, kernel, init, ConvGather)
}

// upsampleConv is Conv2D(Upsample2x(x)) with the formulation impl.
func upsampleConv(scope *model.Scope, x *graph.Node, channels, kernel int, init Init, impl ConvImpl) *graph.Node {
	checkImage(x)
	checkKernel(kernel, 1)
	wts, bias := convVariables(scope, x, x.Shape().Dimensions[3], channels, kernel, init)
	return upsampleConvApply(x, wts, bias, impl)
}

// upsampleConvApply is conv2DApply(Upsample2x(x), wts, bias, 1, impl),
// computed at x's resolution for ConvGather and the sub-pixel variants.
func upsampleConvApply(x, wts, bias *graph.Node, impl ConvImpl) *graph.Node {
	switch impl {
	case ConvGather:
		return upsampleConvScatter(x, wts, bias)
	case convSubPixel, convGatherAutodiff:
		return upsampleConvSubPixel(x, wts, bias, impl == convSubPixel)
	default:
		return conv2DApply(Upsample2x(x), wts, bias, 1, impl)
	}
}

func conv2D(scope *model.Scope, x *graph.Node, channels, kernel, stride int, init Init, impl ConvImpl) *graph.Node {
	checkImage(x)
	checkKernel(kernel, stride)
	wts, bias := convVariables(scope, x, x.Shape().Dimensions[3], channels, kernel, init)
	return conv2DApply(x, wts, bias, stride, impl)
}

// conv2DApply convolves x [B, H, W, C_in] with wts [k, k, C_in, C_out] (odd k,
// padding (k−1)/2) at the given stride and adds bias [C_out].
func conv2DApply(x, wts, bias *graph.Node, stride int, impl ConvImpl) *graph.Node {
	d := x.Shape().Dimensions
	kernel, cin, channels := wts.Shape().Dimensions[0], d[3], wts.Shape().Dimensions[3]
	p := (kernel - 1) / 2
	var y *graph.Node
	switch impl {
	case ConvNative:
		y = graph.Convolve(x, wts).StridePerAxis(stride, stride).PaddingPerDim([][2]int{{p, p}, {p, p}}).Done()
	case ConvIm2Col:
		y = im2colConv(x, wts, kernel, stride)
	case ConvGather, convSubPixel, convGatherAutodiff:
		b, h, w := d[0], d[1], d[2]
		ho, wo := (h-1)/stride+1, (w-1)/stride+1
		// Only the padding that some window reaches is added.
		after := max((ho-1)*stride+kernel-p-h, 0)
		y = patchMatMul(x, graph.Reshape(wts, kernel*kernel*cin, channels), kernel, stride, p, after, impl != convGatherAutodiff)
		y = graph.Reshape(y, b, ho, wo, channels)
	default:
		exceptionf("unknown convolution formulation %q: use one of %v", impl, ConvImpls)
	}
	return graph.Add(y, graph.ExpandLeftToRank(bias, y.Rank()))
}

// convVariables creates (or reuses) the kernel [k, k, C_in, C_out] and bias.
func convVariables(scope *model.Scope, x *graph.Node, cin, cout, kernel int, init Init) (*graph.Node, *graph.Node) {
	g := x.Graph()
	dtype := x.DType()
	weightInit, biasInit := initializers(scope, init, kernel*kernel*cin)
	w := scope.WithInitializer(weightInit).VariableWithShape("weights", shapes.Make(dtype, kernel, kernel, cin, cout)).NodeValue(g)
	b := scope.WithInitializer(biasInit).VariableWithShape("biases", shapes.Make(dtype, cout)).NodeValue(g)
	return w, b
}

func checkImage(x *graph.Node) {
	if x.Rank() != 4 {
		exceptionf("convolution input must be NHWC [B, H, W, C], got shape %s", x.Shape())
	}
}

func checkKernel(kernel, stride int) {
	if kernel < 1 || kernel%2 == 0 {
		exceptionf("kernel size %d: must be odd (1, 3, 5...): even kernels have no centred \"same\" padding, and gomlx v0.28.16's Convolve input gradient is wrong for them", kernel)
	}
	if stride < 1 {
		exceptionf("stride %d: must be >= 1", stride)
	}
}

// exceptionf panics as GoMLX graph building does, so callers recover it in one place.
func exceptionf(format string, args ...any) {
	panic(fmt.Errorf(format, args...))
}
