package vae

import (
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Reference formulations, kept so BenchmarkConvStep and BenchmarkConvLayer
// can show what each choice in conv_gather.go is worth; tests hold them to
// the same values and gradients.

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
