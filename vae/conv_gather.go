package vae

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// The fast path (ConvGather): convolutions as one data-movement op with a
// memmove/SIMD kernel on the Go backend plus one MatMul, with their gradients
// written out. See conv.go for the API.

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
// The gradients are attached with graph.IdentityWithCustomGradient (the
// idiom of BCEWithLogits): the output's custom gradient captures dy; the
// custom gradients of x and w, which autodiff reaches later (it walks nodes in
// reverse creation order), ignore the generic cotangents it built for them,
// and the Go backend never runs those (it executes only what the outputs
// need). First-order gradients only: a gradient of this gradient is not
// defined.
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
		dyT := graph.TransposeAllAxes(dy, 1, 0)                       // [N, M]
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
