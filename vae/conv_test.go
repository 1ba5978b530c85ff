package vae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// randData returns n values from N(0, 1) with a fixed seed.
func randData(seed uint64, n int) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64()
	}
	return out
}

func prod(dims ...int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// maxAbsDiff is max |a−b| and max |b|.
func maxAbsDiff(a, b []float64) (diff, scale float64) {
	for i := range a {
		diff = math.Max(diff, math.Abs(a[i]-b[i]))
		scale = math.Max(scale, math.Abs(b[i]))
	}
	return
}

// TestConv2DMatchesConvolve checks every formulation against graph.Convolve
// with the same HWIO kernel and PyTorch-style padding, in float32, on odd and
// even sizes, strides 1 and 2, kernels 1, 3 and 5.
func TestConv2DMatchesConvolve(t *testing.T) {
	cases := []struct{ h, w, cin, cout, k, stride int }{
		{8, 8, 3, 4, 3, 1}, {8, 8, 3, 4, 3, 2}, {7, 5, 2, 3, 3, 2}, {7, 6, 2, 3, 3, 1},
		{6, 6, 2, 3, 5, 1}, {9, 7, 2, 3, 5, 2}, {5, 5, 3, 2, 1, 2},
	}
	for _, c := range cases {
		for _, impl := range []ConvImpl{ConvGather, ConvIm2Col, convGatherAutodiff} {
			name := fmt.Sprintf("%s/%dx%dx%d-k%d-s%d", impl, c.h, c.w, c.cin, c.k, c.stride)
			t.Run(name, func(t *testing.T) {
				xs := []int{2, c.h, c.w, c.cin}
				out := eval(t, 3, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
					x := graph.ConvertDType(constF64(g, randData(1, prod(xs...)), xs...), dtypes.Float32)
					y := Conv2DWith(scope.At("c"), x, c.cout, c.k, c.stride, InitPyTorch, impl)
					w := scope.At("c").GetVariable("weights").NodeValue(g)
					b := scope.At("c").GetVariable("biases").NodeValue(g)
					p := (c.k - 1) / 2
					ref := graph.Convolve(x, w).StridePerAxis(c.stride, c.stride).PaddingPerDim([][2]int{{p, p}, {p, p}}).Done()
					ref = graph.Add(ref, graph.ExpandLeftToRank(b, 4))
					if !y.Shape().Equal(ref.Shape()) {
						t.Fatalf("shape %s, want %s", y.Shape(), ref.Shape())
					}
					return []*graph.Node{y, ref}
				})
				if diff, scale := maxAbsDiff(out[0], out[1]); diff > 1e-4*math.Max(1, scale) || scale == 0 {
					t.Errorf("max |Conv2D − Convolve| = %g (max |Convolve| = %g)", diff, scale)
				}
			})
		}
	}
}

// TestUpsampleConv2DMatchesUpsampleThenConvolve checks every formulation of
// an upsample followed by a convolution (the transposed convolution of
// UpsampleConv2D, the sub-pixel ones, im2col) against materializing the
// nearest upsample and calling graph.Convolve, for kernels 1, 3 and 5.
func TestUpsampleConv2DMatchesUpsampleThenConvolve(t *testing.T) {
	for _, k := range []int{1, 3, 5} {
		for _, impl := range []ConvImpl{ConvGather, convSubPixel, convGatherAutodiff, ConvIm2Col} {
			t.Run(fmt.Sprintf("%s/k%d", impl, k), func(t *testing.T) {
				xs := []int{2, 4, 3, 3}
				out := eval(t, 5, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
					x := graph.ConvertDType(constF64(g, randData(2, prod(xs...)), xs...), dtypes.Float32)
					y := UpsampleConv2D(scope.At("c"), x, 4, k, InitPyTorch)
					w := scope.At("c").GetVariable("weights").NodeValue(g)
					b := scope.At("c").GetVariable("biases").NodeValue(g)
					if impl != ConvGather {
						y = upsampleConvApply(x, w, b, impl)
					}
					p := (k - 1) / 2
					ref := graph.Convolve(Upsample2x(x), w).PaddingPerDim([][2]int{{p, p}, {p, p}}).Done()
					ref = graph.Add(ref, graph.ExpandLeftToRank(b, 4))
					if !y.Shape().Equal(ref.Shape()) {
						t.Fatalf("shape %s, want %s", y.Shape(), ref.Shape())
					}
					return []*graph.Node{y, ref}
				})
				if diff, scale := maxAbsDiff(out[0], out[1]); diff > 1e-4*math.Max(1, scale) || scale == 0 {
					t.Errorf("max |upsample+conv − Convolve(Upsample2x)| = %g (max %g)", diff, scale)
				}
			})
		}
	}
}

func TestUpsample2xValues(t *testing.T) {
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		// [1, 2, 2, 2]: pixel (i, j) has channels (10i+j, −(10i+j)).
		return []*graph.Node{Upsample2x(constF64(g, []float64{0, 0, 1, -1, 10, -10, 11, -11}, 1, 2, 2, 2))}
	})
	for i := range 4 {
		for j := range 4 {
			v := float64(10*(i/2) + j/2)
			near(t, fmt.Sprintf("up[%d,%d,0]", i, j), out[0][(i*4+j)*2], v, 0)
			near(t, fmt.Sprintf("up[%d,%d,1]", i, j), out[0][(i*4+j)*2+1], -v, 0)
		}
	}
}

func TestConvEncoderDecoderShapes(t *testing.T) {
	for _, impl := range ConvImpls {
		t.Run(string(impl), func(t *testing.T) {
			store := model.NewStore()
			_ = store.SetRNGStateFromSeed(1)
			net := ConvNet{Impl: impl}
			outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
				x := graph.Zeros(g, shapesF32(3, 28, 28, 1))
				e := net.Encoder(scope.At("encoder"), x, 40)
				d := net.Decoder(scope.At("decoder"), graph.Zeros(g, shapesF32(3, 20)), 28, 28, 1)
				return []*graph.Node{e, d}
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := outs[0].Shape().Dimensions; fmt.Sprint(got) != "[3 40]" {
				t.Errorf("encoder output %v, want [3 40]", got)
			}
			if got := outs[1].Shape().Dimensions; fmt.Sprint(got) != "[3 28 28 1]" {
				t.Errorf("decoder output %v, want [3 28 28 1]", got)
			}
			// Same HWIO kernels for every formulation (Dense's layout is Dense's business).
			want := map[string][]int{
				"/encoder/conv_0/weights": {3, 3, 1, 32}, "/encoder/conv_1/weights": {3, 3, 32, 64},
				"/decoder/conv_0/weights": {3, 3, 64, 32}, "/decoder/conv_1/weights": {3, 3, 32, 1},
				"/encoder/conv_1/biases": {64}, "/decoder/conv_1/biases": {1},
			}
			for _, path := range []string{"/encoder/dense/weights", "/decoder/dense/weights"} {
				if store.GetVariable(path) == nil {
					t.Errorf("variable %s missing", path)
				}
			}
			for path, dims := range want {
				v := store.GetVariable(path)
				if v == nil {
					t.Errorf("variable %s missing", path)
				} else if fmt.Sprint(v.Shape().Dimensions) != fmt.Sprint(dims) {
					t.Errorf("%s: %v, want %v", path, v.Shape().Dimensions, dims)
				}
			}
		})
	}
}

func TestConvRejectsEvenKernel(t *testing.T) {
	_, err := model.CallOnceN(gobackend.GetBackend(), model.NewStore(), func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		return []*graph.Node{Conv2D(scope, graph.Zeros(g, shapesF32(1, 4, 4, 1)), 2, 2, 1, InitPyTorch)}
	})
	if err == nil || !strings.Contains(err.Error(), "must be odd") {
		t.Errorf("Conv2D with kernel 2: error %v, want one saying the kernel must be odd", err)
	}
}

// directionalCheck compares the autodiff gradient of loss with central finite
// differences along random directions, all in one float64 graph: for each
// input i and direction u, (L(..x_i+h·u..) − L(..x_i−h·u..))/2h ≈ ⟨∇_i L, u⟩.
// A wrong gradient fails for almost every random u.
func directionalCheck(t *testing.T, what string, inputs [][]float64, dims [][]int, loss func(g *graph.Graph, xs []*graph.Node) *graph.Node) {
	t.Helper()
	const h, dirs = 1e-5, 3
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		xs := make([]*graph.Node, len(inputs))
		for i := range inputs {
			xs[i] = constF64(g, inputs[i], dims[i]...)
		}
		res := graph.Gradient(loss(g, xs), xs...)
		for i := range inputs {
			for k := range dirs {
				u := randData(uint64(100+10*i+k), len(inputs[i]))
				for _, s := range []float64{h, -h} {
					moved := make([]float64, len(u))
					for j := range u {
						moved[j] = inputs[i][j] + s*u[j]
					}
					ys := append([]*graph.Node(nil), xs...)
					ys[i] = constF64(g, moved, dims[i]...)
					res = append(res, loss(g, ys))
				}
			}
		}
		return res
	})
	n := len(inputs)
	for i := range inputs {
		for k := range dirs {
			u := randData(uint64(100+10*i+k), len(inputs[i]))
			ad := 0.0
			for j, gj := range out[i] {
				ad += gj * u[j]
			}
			fd := (out[n+2*(i*dirs+k)][0] - out[n+2*(i*dirs+k)+1][0]) / (2 * h)
			if math.Abs(ad-fd) > 1e-6*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s: input %d direction %d: autodiff %.10g, finite differences %.10g", what, i, k, ad, fd)
			}
		}
	}
}

// TestConv2DGradientFiniteDifferences checks the gradients of every
// formulation with respect to input, kernel and bias (float64), for 3×3 and
// 5×5 kernels. The cases cover each branch of patchMatMul's hand-written
// gradient: fewer patch columns than output channels (a first layer), fewer
// output channels than the GEMM tile (a last layer), and neither.
func TestConv2DGradientFiniteDifferences(t *testing.T) {
	// The 5×5 cases are DCGAN's layers in miniature: a stride-2 first layer
	// from one channel, and a stride-2 layer between wider ones.
	cases := []struct{ cin, cout, k, stride int }{{2, 3, 3, 1}, {2, 3, 3, 2}, {1, 16, 3, 2}, {3, 32, 3, 1},
		{1, 4, 5, 2}, {3, 5, 5, 2}, {2, 3, 5, 1}}
	for _, impl := range []ConvImpl{ConvGather, ConvIm2Col, convGatherAutodiff} {
		for i, c := range cases {
			if impl != ConvGather && i >= 2 && c.k == 3 {
				continue
			}
			xd, wd, bd := []int{2, 5, 6, c.cin}, []int{c.k, c.k, c.cin, c.cout}, []int{c.cout}
			ho, wo := (5-1)/c.stride+1, (6-1)/c.stride+1
			r := randData(7, 2*ho*wo*c.cout)
			directionalCheck(t, fmt.Sprintf("%s %+v", impl, c),
				[][]float64{randData(4, prod(xd...)), randData(5, prod(wd...)), randData(6, c.cout)}, [][]int{xd, wd, bd},
				func(g *graph.Graph, xs []*graph.Node) *graph.Node {
					y := conv2DApply(xs[0], xs[1], xs[2], c.stride, impl)
					// A nonlinear readout, so the gradient depends on the values.
					return graph.ReduceAllSum(graph.Mul(graph.Tanh(y), constF64(g, r, 2, ho, wo, c.cout)))
				})
		}
	}
}

// TestUpsampleGradientsFiniteDifferences checks the gradients of the
// upsample + convolution formulations (input, kernel, bias), for 3×3 and 5×5
// kernels, and of Upsample2x.
func TestUpsampleGradientsFiniteDifferences(t *testing.T) {
	// (20 → 1) has fewer transposed-kernel columns (16) than input channels,
	// the other branch of matMulScatter's kernel gradient.
	// With 5×5 kernels (DCGAN's) the transposed kernel is 6×6: (20 → 1) has
	// 36 columns, more than its input channels, and (40 → 1) fewer.
	for _, c := range []struct{ cin, cout, k int }{{2, 3, 3}, {20, 1, 3}, {2, 3, 5}, {20, 1, 5}, {40, 1, 5}} {
		xd, wd := []int{2, 3, 4, c.cin}, []int{c.k, c.k, c.cin, c.cout}
		r := randData(9, 2*6*8*c.cout)
		for _, impl := range []ConvImpl{ConvGather, convSubPixel, convGatherAutodiff} {
			directionalCheck(t, fmt.Sprintf("upsample+conv %s %+v", impl, c),
				[][]float64{randData(4, prod(xd...)), randData(5, prod(wd...)), randData(6, c.cout)},
				[][]int{xd, wd, {c.cout}}, func(g *graph.Graph, xs []*graph.Node) *graph.Node {
					y := upsampleConvApply(xs[0], xs[1], xs[2], impl)
					return graph.ReduceAllSum(graph.Mul(graph.Tanh(y), constF64(g, r, 2, 6, 8, c.cout)))
				})
		}
	}
	xd := []int{2, 3, 4, 2}
	r2 := randData(10, 2*6*8*2)
	directionalCheck(t, "Upsample2x", [][]float64{randData(4, prod(xd...))}, [][]int{xd},
		func(g *graph.Graph, xs []*graph.Node) *graph.Node {
			return graph.ReduceAllSum(graph.Mul(graph.Tanh(Upsample2x(xs[0])), constF64(g, r2, 2, 6, 8, 2)))
		})
}

// TestConvVAEChainGradient checks the gradient of a whole conv VAE loss
// (ConvEncoder → Gaussian reparameterization with fixed noise → ConvDecoder →
// BCE + KL) with respect to every variable, on 8×8×2 images with narrow
// layers, against finite differences along random directions in the
// variables. It guards the chain's gradient graph as a whole (Pad, Gather,
// Scatter, MatMul, transposes, Dense, ReLU), for each formulation.
func TestConvVAEChainGradient(t *testing.T) {
	const b, hw, c, latent = 2, 8, 2, 2
	for _, impl := range append(ConvImpls, convSubPixel, convGatherAutodiff) {
		t.Run(string(impl), func(t *testing.T) {
			net := ConvNet{Widths: [2]int{3, 4}, Impl: impl}
			xData := make([]float64, b*hw*hw*c)
			for i, v := range randData(11, len(xData)) {
				xData[i] = 1 / (1 + math.Exp(-v)) // in (0, 1)
			}
			eps := randData(12, b*latent)
			lossFn := func(scope *model.Scope, g *graph.Graph) *graph.Node {
				x := constF64(g, xData, b, hw, hw, c)
				q := GaussianFromParams(net.Encoder(scope.At("encoder"), x, 2*latent))
				z := graph.Add(q.Mean, graph.Mul(q.Std(), constF64(g, eps, b, latent)))
				logits := net.Decoder(scope.At("decoder"), z, hw, hw, c)
				return graph.ReduceAllSum(graph.Sub(KLStdNormal(q), BernoulliLogLik(x, logits)))
			}
			store := model.NewStore()
			_ = store.SetRNGStateFromSeed(13)
			backend := gobackend.GetBackend()
			// Gradient and the variables' values at the base point.
			var vars []*model.Variable
			grads, err := model.CallOnceN(backend, store, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
				loss := lossFn(scope, g)
				vars = vars[:0]
				var nodes []*graph.Node
				for v := range store.IterVariables() {
					if v.Shape().DType == dtypes.Float64 && v.Shape().Rank() > 0 {
						vars = append(vars, v)
						nodes = append(nodes, v.NodeValue(g))
					}
				}
				return graph.Gradient(loss, nodes...)
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(vars) != 12 {
				t.Fatalf("found %d float64 variables, want 12 (6 layers × weights, biases)", len(vars))
			}
			base := make([][]float64, len(vars))
			for i, v := range vars {
				base[i] = tensors.MustCopyFlatData[float64](v.MustValue())
			}
			lossAt := func(s float64, dir int) float64 {
				for i, v := range vars {
					u := randData(uint64(200+dir*len(vars)+i), len(base[i]))
					moved := make([]float64, len(u))
					for j := range u {
						moved[j] = base[i][j] + s*u[j]
					}
					v.MustSetValue(tensors.FromFlatDataAndDimensions(moved, v.Shape().Dimensions...))
				}
				out, err := model.CallOnce(backend, store, lossFn)
				if err != nil {
					t.Fatal(err)
				}
				return tensors.MustCopyFlatData[float64](out)[0]
			}
			const h = 1e-6
			for dir := range 3 {
				ad := 0.0
				for i := range vars {
					u := randData(uint64(200+dir*len(vars)+i), len(base[i]))
					for j, gj := range toFloat64(t, grads[i]) {
						ad += gj * u[j]
					}
				}
				fd := (lossAt(h, dir) - lossAt(-h, dir)) / (2 * h)
				if math.Abs(ad-fd) > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Errorf("direction %d: autodiff %.10g, finite differences %.10g", dir, ad, fd)
				}
			}
		})
	}
}
