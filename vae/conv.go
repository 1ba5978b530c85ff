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
// Every path below stores the same variables under its scope, "weights"
// [k, k, C_in, C_out] (HWIO, the layout of layers.Convolution and
// graph.Convolve's default) and "biases" [C_out], so the formulations are
// interchangeable and checkpoint-compatible. Padding is PyTorch's
// padding=(k−1)/2 on both sides, so a stride-s convolution maps H to
// ⌊(H−1)/s⌋+1 (28 → 14 → 7 for s=2).
//
// Why a Gather: on the Go backend (compute v0.1.14) Slice is a scalar
// per-element loop in both directions of use (forward, and as the gradient of
// Pad and Concatenate), while GatherSlices copies contiguous runs with memmove
// and its gradient, ScatterSum, adds contiguous runs with SIMD. One
// GatherSlices with a constant index table therefore builds the whole patch
// matrix of a 3×3 convolution at any stride — each index copies three runs of
// 3·C_in contiguous floats — and one MatMul (AVX-512) does the arithmetic.

// ConvImpl selects how a convolution is computed; all give the same values.
type ConvImpl string

const (
	// ConvGather builds the patch matrix with one GatherSlices (gradient:
	// one SIMD ScatterSum) and multiplies it with the kernel in one MatMul; an
	// upsample followed by a convolution is computed at the low resolution
	// (see UpsampleConv2D). The default and the fastest on the Go backend.
	ConvGather ConvImpl = "gather"
	// ConvIm2Col builds the patch matrix from k² strided Slices concatenated
	// along channels, then one MatMul; upsampling is materialized. Kept as the
	// reference for benchmarks: Slice has only a scalar kernel on the Go backend.
	ConvIm2Col ConvImpl = "im2col"
	// ConvNative uses graph.Convolve (scalar convolution kernels on the Go
	// backend; fine on XLA). Its input gradient is wrong for even kernels in
	// gomlx v0.28.16, which is why kernels here must be odd.
	ConvNative ConvImpl = "native"
)

// convGatherAutodiff is ConvGather with GoMLX's own gradients of
// GatherSlices, Pad and MatMul instead of patchMatMul's: kept for the
// benchmark that shows what the custom gradient saves.
const convGatherAutodiff ConvImpl = "gather-autodiff"

// convSubPixel is ConvGather with the decoder's upsample + convolution
// computed as a sub-pixel convolution (im2col of x, a [9·C_in, 4·C_out]
// kernel with 5/9 structural zeros, depth-to-space) instead of
// upsampleConvScatter: kept for the benchmark.
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

// upsample2xBroadcast is Upsample2x as a broadcast of [B, H, 1, W, 1, C] to
// [B, H, 2, W, 2, C] and a reshape: kept for the benchmark.
func upsample2xBroadcast(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	y := graph.Reshape(x, b, h, 1, w, 1, c)
	y = graph.BroadcastToDims(y, b, h, 2, w, 2, c)
	return graph.Reshape(y, b, 2*h, 2*w, c)
}

// UpsampleConv2D equals Conv2D(scope, Upsample2x(x), channels, kernel, 1, init)
// — same variables, same values — but is computed at x's resolution as a
// "sub-pixel" convolution: each of the four output phases (row parity a,
// column parity b) of a nearest-upsampled convolution is a convolution of x
// with the kernel's taps summed onto x's pixels, so one MatMul of x's 3×3
// patches with a [9·C_in, 4·channels] kernel (a fixed linear map of the
// weights) gives all four phases, and a depth-to-space transpose interleaves
// them. It builds a patch matrix 4× smaller than the upsampled one.
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
// computed at x's resolution when impl is ConvGather.
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

// upsampleConvSubPixel is the sub-pixel form of upsampleConvApply.
func upsampleConvSubPixel(x, wts, bias *graph.Node, customVJP bool) *graph.Node {
	d := x.Shape().Dimensions
	b, h, w, cin := d[0], d[1], d[2], d[3]
	kernel, channels := wts.Shape().Dimensions[0], wts.Shape().Dimensions[3]

	// Low-resolution taps: output row 2i+a, tap dd ∈ [−p, p] of the upsampled
	// convolution reads x row i + ⌊(a+dd)/2⌋ ∈ [i+eMin, i+eMax].
	p := (kernel - 1) / 2
	eMin, eMax := floorDiv(-p, 2), floorDiv(1+p, 2)
	kl := eMax - eMin + 1
	// tapMap[(eh, ew, a, bb), (dh, dw)] = 1 where tap (dh, dw) of phase (a, bb)
	// lands on low-resolution tap (eh, ew).
	tapMap := make([]float64, kl*kl*4*kernel*kernel)
	for eh := range kl {
		for ew := range kl {
			for a := range 2 {
				for bb := range 2 {
					row := ((eh*kl+ew)*2+a)*2 + bb
					for dh := range kernel {
						for dw := range kernel {
							if floorDiv(a+dh-p, 2) == eh+eMin && floorDiv(bb+dw-p, 2) == ew+eMin {
								tapMap[row*kernel*kernel+dh*kernel+dw] = 1
							}
						}
					}
				}
			}
		}
	}
	g := x.Graph()
	m := graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(tapMap, kl*kl*4, kernel*kernel)), x.DType())
	wl := graph.MatMul(m, graph.Reshape(wts, kernel*kernel, cin*channels)) // [(eh,ew,a,bb), (cin,cout)]
	wl = graph.Reshape(wl, kl*kl, 4, cin, channels)
	wl = graph.TransposeAllAxes(wl, 0, 2, 1, 3) // [(eh,ew), cin, (a,bb), cout]
	wl = graph.Reshape(wl, kl*kl*cin, 4*channels)

	y := patchMatMul(x, wl, kl, 1, -eMin, eMax, customVJP) // [B·H·W, (a, bb, cout)]
	bias4 := graph.Reshape(graph.BroadcastToDims(graph.InsertAxes(bias, 0), 4, channels), 1, 4*channels)
	y = graph.Add(y, bias4)
	// Depth-to-space: [B·H, W, a, (bb, cout)] → [B·H, a, W, (bb, cout)], the
	// backend's contiguous-block transpose.
	y = graph.Reshape(y, b*h, w, 2, 2*channels)
	y = graph.TransposeAllAxes(y, 0, 2, 1, 3)
	return graph.Reshape(y, b, 2*h, 2*w, channels)
}

// upsampleConvScatter is upsampleConvApply as a stride-2 transposed
// convolution: a nearest 2× upsample followed by a k×k convolution (padding
// p = (k−1)/2) makes each input pixel (i, j) contribute to the (k+1)×(k+1)
// output block starting at (2i−p, 2j−p), with kernel taps summed where two
// upsampled pixels repeat the same input pixel. So
//
//	Z = x · W_z          one MatMul, [B·H·W, C_in] × [C_in, (k+1)²·C_out]
//	y = col2im(Z)        one ScatterSum of (k+1)×(k+1)×C_out windows, stride 2
//
// where W_z is a fixed linear map of the HWIO kernel. Against im2col of the
// upsampled image this moves (k+1)²·C_out values per input pixel instead of
// 4·k²·C_in, does no multiply by structural zeros, and writes the output at
// full resolution directly (no depth-to-space). The gradients are written
// out (see matMulScatter).
func upsampleConvScatter(x, wts, bias *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	cin := d[3]
	kernel, channels := wts.Shape().Dimensions[0], wts.Shape().Dimensions[3]
	p := (kernel - 1) / 2
	kz := kernel + 1
	// Output row q = 2i − p + r (r ∈ [0, kz)) reads upsampled rows q + dd,
	// dd ∈ [−p, p]; those equal to input row i are 2i and 2i+1, so the taps
	// of x's pixel landing on offset r are kh = dd + p ∈ {2p − r, 2p − r + 1}.
	taps := func(r, kh int) bool { return kh == 2*p-r || kh == 2*p-r+1 }
	tapMap := make([]float64, kz*kz*kernel*kernel)
	for r := range kz {
		for s := range kz {
			for kh := range kernel {
				for kw := range kernel {
					if taps(r, kh) && taps(s, kw) {
						tapMap[(r*kz+s)*kernel*kernel+kh*kernel+kw] = 1
					}
				}
			}
		}
	}
	g := x.Graph()
	m := graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(tapMap, kz*kz, kernel*kernel)), x.DType())
	wz := graph.MatMul(m, graph.Reshape(wts, kernel*kernel, cin*channels)) // [(r,s), (cin,cout)]
	wz = graph.TransposeAllAxes(graph.Reshape(wz, kz*kz, cin, channels), 1, 0, 2)
	wz = graph.Reshape(wz, cin, kz*kz*channels)
	return matMulScatter(x, wz, bias, kz, 2, p)
}

// matMulScatter returns col2im(x·w) + bias: x [B, H, W, C_in], w [C_in,
// kz·kz·C], each pixel (i, j)'s kz×kz×C block of x·w summed into the output
// at rows/columns (stride·i − crop, stride·j − crop), output
// [B, stride·H, stride·W, C] (blocks reaching outside are cut).
//
// GoMLX's gradient of ScatterSum handles only the simple scatter (one value
// per index), so the gradients are written out — and in the layouts the Go
// backend runs without copies: dZ is one GatherSlices of the padded
// cotangent (kz runs of kz·C contiguous values per pixel), dx = dZ·wᵀ and
// dw = xᵀ·dZ or (dZᵀ·x)ᵀ, transposing the smaller of x and dZ. They are
// attached as in patchMatMul; the ScatterSum reads x·w through a
// StopGradient, and a zero-valued scalar taken from x and w, added to the
// bias, routes autodiff to the custom gradients of x and w.
func matMulScatter(x, w, bias *graph.Node, kz, stride, crop int) *graph.Node {
	g := x.Graph()
	d := x.Shape().Dimensions
	b, h, wd, cin := d[0], d[1], d[2], d[3]
	n := w.Shape().Dimensions[1]
	c := n / (kz * kz)
	m := b * h * wd
	ho, wo := stride*h, stride*wd
	// Padded output: block (i, j) starts at (stride·i, stride·j).
	hp, wp := max(stride*(h-1)+kz, ho+crop), max(stride*(wd-1)+kz, wo+crop)
	idx := make([]int32, 0, m*3)
	for bi := range b {
		for i := range h {
			for j := range wd {
				idx = append(idx, int32(bi), int32(stride*i), int32(stride*j))
			}
		}
	}
	start := graph.Const(g, tensors.FromFlatDataAndDimensions(idx, b, h, wd, 3))
	cropStart := graph.Const(g, [][]int32{{int32(crop), int32(crop)}})

	var dy, xm, wID, dz, dzOf *graph.Node
	// blocks is the transpose of col2im: the kz×kz×C block of the cotangent
	// that each input pixel wrote, [M, kz·kz·C], built once per gradient.
	blocks := func() *graph.Node {
		if dzOf != dy {
			pad := graph.PadAxis{Start: crop, End: hp - ho - crop}
			padW := graph.PadAxis{Start: crop, End: wp - wo - crop}
			dyp := graph.Pad(dy, graph.ScalarZero(g, dy.DType()), graph.PadAxis{}, pad, padW, graph.PadAxis{})
			dz, dzOf = graph.Reshape(graph.GatherSlices(dyp, []int{0, 1, 2}, start, []int{1, kz, kz}, true), m, n), dy
		}
		return dz
	}
	xID := graph.IdentityWithCustomGradient(x, func(_, _ *graph.Node) *graph.Node {
		return graph.Reshape(graph.DotGeneral(blocks(), []int{1}, nil, wID, []int{1}, nil), b, h, wd, cin) // dZ·wᵀ
	})
	wID = graph.IdentityWithCustomGradient(w, func(_, _ *graph.Node) *graph.Node {
		dz := blocks()
		if cin <= n {
			return graph.DotGeneral(graph.TransposeAllAxes(xm, 1, 0), []int{1}, nil, dz, []int{0}, nil) // [C_in, N]
		}
		dzT := graph.DotGeneral(graph.TransposeAllAxes(dz, 1, 0), []int{1}, nil, xm, []int{0}, nil) // [N, C_in]
		return graph.TransposeAllAxes(dzT, 1, 0)
	})
	xm = graph.Reshape(xID, m, cin)
	z := graph.MatMul(xm, wID) // [M, kz·kz·C]
	out := graph.BackendScatterSum(graph.Zeros(g, shapes.Make(x.DType(), b, hp, wp, c)), start,
		graph.StopGradient(graph.Reshape(z, b, h, wd, kz, kz, c)), 3, []int{3, 4, 5}, []int{0}, []int{0, 1, 2}, true, false)
	y := graph.Reshape(graph.GatherSlices(out, []int{1, 2}, cropStart, []int{ho, wo}, true), b, ho, wo, c)
	// The link reads one value of x and of w (not of z, whose single use lets
	// the Reshape and StopGradient above reuse its buffer instead of copying).
	link := graph.MulScalar(graph.Add(
		graph.Reshape(graph.Slice(xm, graph.AxisRange(0, 1), graph.AxisRange(0, 1))),
		graph.Reshape(graph.Slice(wID, graph.AxisRange(0, 1), graph.AxisRange(0, 1)))), 0)
	y = graph.Add(y, graph.ExpandLeftToRank(graph.Add(bias, link), 4))
	return graph.IdentityWithCustomGradient(y, func(_, v *graph.Node) *graph.Node {
		dy = v
		return v
	})
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
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

// patchMatMul returns patches(x) @ w, [B·Ho·Wo, N], where patches(x) is
// the patch matrix [B·Ho·Wo, k·k·C] of x [B, H, W, C] zero-padded by `before`
// rows/columns at the start and `after` at the end, k×k windows at the given
// stride, columns ordered (kh, kw, c) like a reshaped HWIO kernel; w is
// [k·k·C, N].
//
// Forward: Pad (memmove) and one GatherSlices (k runs of k·C contiguous
// values per window), then one MatMul. With customVJP the backward pass is
// written out instead of left to autodiff, because GoMLX's generic gradients
// cost more than the convolution itself on the Go backend:
//   - dP = dy·wᵀ is a DotGeneral already in the backend's native layout;
//     autodiff follows it with an identity Transpose (a full copy of dP);
//   - dw = (dyᵀ·P)ᵀ contracts P's leading axis in place (dyᵀ is small);
//     autodiff's form contracts axis 0 of both operands, which makes the
//     backend transpose all of P;
//   - dx crops the ScatterSum of dP with a one-index GatherSlices (memmove);
//     autodiff crops with Slice, a scalar per-element loop.
//
// The gradients are attached with the identity-with-custom-gradient idiom:
// the output's custom gradient captures dy; the custom gradients of x and w
// (reached later, in reverse order) ignore the generic cotangents autodiff
// built for them, which the backend then never computes (dead code).
func patchMatMul(x, w *graph.Node, k, stride, before, after int, customVJP bool) *graph.Node {
	g := x.Graph()
	d := x.Shape().Dimensions
	b, h, wd, c := d[0], d[1], d[2], d[3]
	hp, wp := h+before+after, wd+before+after
	ho, wo := (hp-k)/stride+1, (wp-k)/stride+1
	m, kk, n := b*ho*wo, k*k*c, w.Shape().Dimensions[1]
	idx := make([]int32, 0, m*3)
	for bi := range b {
		for i := range ho {
			for j := range wo {
				idx = append(idx, int32(bi), int32(i*stride), int32(j*stride))
			}
		}
	}
	start := graph.Const(g, tensors.FromFlatDataAndDimensions(idx, b, ho, wo, 3))
	pad := func(x *graph.Node) *graph.Node {
		if before == 0 && after == 0 {
			return x
		}
		p := graph.PadAxis{Start: before, End: after}
		return graph.Pad(x, graph.ScalarZero(g, x.DType()), graph.PadAxis{}, p, p, graph.PadAxis{})
	}
	patches := func(x *graph.Node) *graph.Node {
		p := graph.GatherSlices(pad(x), []int{0, 1, 2}, start, []int{1, k, k}, true) // [B, Ho, Wo, 1, k, k, C]
		return graph.Reshape(p, m, kk)
	}
	if !customVJP {
		return graph.MatMul(patches(x), w)
	}

	// dy is set by the output's custom gradient, which autodiff (walking nodes
	// in reverse creation order) reaches before those of xID and wID.
	var dy, p, wID *graph.Node
	xID := graph.IdentityWithCustomGradient(x, func(_, _ *graph.Node) *graph.Node {
		dp := graph.DotGeneral(dy, []int{1}, nil, wID, []int{1}, nil) // [M, K]: dy·wᵀ
		dxp := graph.BackendScatterSum(graph.Zeros(g, shapes.Make(x.DType(), b, hp, wp, c)), start,
			graph.Reshape(dp, b, ho, wo, 1, k, k, c), 3, []int{3, 4, 5, 6}, nil, []int{0, 1, 2}, true, false)
		if before == 0 && after == 0 {
			return dxp
		}
		crop := graph.Const(g, [][]int32{{int32(before), int32(before)}})
		return graph.Reshape(graph.GatherSlices(dxp, []int{1, 2}, crop, []int{h, wd}, true), b, h, wd, c)
	})
	wID = graph.IdentityWithCustomGradient(w, func(_, _ *graph.Node) *graph.Node {
		if kk < n {
			// Few patch columns (first layer): transpose P, the smaller operand.
			return graph.DotGeneral(graph.TransposeAllAxes(p, 1, 0), []int{1}, nil, dy, []int{0}, nil) // [K, N]
		}
		dyT := graph.TransposeAllAxes(dy, 1, 0)                      // [N, M]
		dwT := graph.DotGeneral(dyT, []int{1}, nil, p, []int{0}, nil) // [N, K], P read in place
		return graph.TransposeAllAxes(dwT, 1, 0)
	})
	p = patches(xID)
	var y *graph.Node
	if n < matmulKernelCols && m >= matmulKernelCols {
		// Few output channels (the last layer): the backend's matmul kernel pads
		// the output's columns to 32, so compute yᵀ = wᵀ·Pᵀ (M as columns) and
		// transpose the small result.
		y = graph.TransposeAllAxes(graph.DotGeneral(wID, []int{0}, nil, p, []int{1}, nil), 1, 0)
	} else {
		y = graph.MatMul(p, wID)
	}
	return graph.IdentityWithCustomGradient(y, func(_, v *graph.Node) *graph.Node {
		dy = v
		return v
	})
}

// matmulKernelCols is the width of the Go backend's AVX-512 matmul
// micro-kernel (compute v0.1.14: 8 rows × 32 columns of output): a product
// with fewer output columns wastes the rest of the kernel.
const matmulKernelCols = 32

// im2colConv is the slice-based patch matrix: k² strided Slices of the padded
// input concatenated along channels, then one MatMul.
func im2colConv(x, wts *graph.Node, k, stride int) *graph.Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	cout := wts.Shape().Dimensions[3]
	p := (k - 1) / 2
	ho, wo := (h-1)/stride+1, (w-1)/stride+1
	g := x.Graph()
	pad := graph.PadAxis{Start: p, End: p}
	xp := graph.Pad(x, graph.ScalarZero(g, x.DType()), graph.PadAxis{}, pad, pad, graph.PadAxis{})
	cols := make([]*graph.Node, 0, k*k)
	for dh := range k {
		for dw := range k {
			cols = append(cols, graph.Slice(xp, graph.AxisRange(),
				graph.AxisRange(dh, dh+(ho-1)*stride+1).Stride(stride),
				graph.AxisRange(dw, dw+(wo-1)*stride+1).Stride(stride),
				graph.AxisRange()))
		}
	}
	patches := graph.Reshape(graph.Concatenate(cols, -1), b*ho*wo, k*k*c)
	y := graph.MatMul(patches, graph.Reshape(wts, k*k*c, cout))
	return graph.Reshape(y, b, ho, wo, cout)
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
