package vae

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// eval runs fn once on a fresh seeded store and returns its outputs as float64 slices.
func eval(t *testing.T, seed int64, fn func(scope *model.Scope, g *graph.Graph) []*graph.Node) [][]float64 {
	t.Helper()
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		t.Fatal(err)
	}
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, fn)
	if err != nil {
		t.Fatal(err)
	}
	res := make([][]float64, len(outs))
	for i, o := range outs {
		res[i] = toFloat64(t, o)
	}
	return res
}

func toFloat64(t *testing.T, o *tensors.Tensor) []float64 {
	t.Helper()
	switch o.DType().String() {
	case "Float64":
		return tensors.MustCopyFlatData[float64](o)
	default:
		f32 := tensors.MustCopyFlatData[float32](o)
		out := make([]float64, len(f32))
		for i, v := range f32 {
			out[i] = float64(v)
		}
		return out
	}
}

func constF64(g *graph.Graph, data []float64, dims ...int) *graph.Node {
	return graph.Const(g, tensors.FromFlatDataAndDimensions(data, dims...))
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g ± %.2g", what, got, want, tol)
	}
}

func TestKLStdNormalKnownValues(t *testing.T) {
	// Rows: identical to the prior (KL 0); mean 1 unit variance (KL ½ per dim);
	// mean 0 variance e (½(e − 1 − 1)); a 2-d mix.
	mean := []float64{0, 0, 1, 1, 0, 0, 3, -2}
	logVar := []float64{0, 0, 0, 0, 1, 1, 0.5, -1}
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		q := Gaussian{Mean: constF64(g, mean, 4, 2), LogVar: constF64(g, logVar, 4, 2)}
		return []*graph.Node{KLStdNormal(q), KLGaussians(q, q)}
	})
	want := []float64{0, 1, 2 * 0.5 * (math.E - 2), 0.5 * (math.Exp(0.5) + 9 - 1 - 0.5 + math.Exp(-1) + 4 - 1 + 1)}
	for i, w := range want {
		near(t, "KL(q‖N(0,I)) row", out[0][i], w, 1e-9)
		near(t, "KL(q‖q) row", out[1][i], 0, 1e-12)
	}
}

func TestKLGaussiansMatchesStdNormal(t *testing.T) {
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		q := Gaussian{Mean: constF64(g, []float64{0.3, -1.2, 2}, 1, 3), LogVar: constF64(g, []float64{-0.7, 0.4, 1.1}, 1, 3)}
		p := Gaussian{Mean: graph.ZerosLike(q.Mean), LogVar: graph.ZerosLike(q.LogVar)}
		return []*graph.Node{KLStdNormal(q), KLGaussians(q, p)}
	})
	near(t, "KLGaussians(q, N(0,I))", out[1][0], out[0][0], 1e-12)
}

// TestKLAnalyticVsMonteCarlo checks KL(q‖p) = E_q[log q(z) − log p(z)]
// estimated with 200k reparameterized samples, for q vs N(0, I) and q vs a
// non-standard p.
func TestKLAnalyticVsMonteCarlo(t *testing.T) {
	const k = 200000
	out := eval(t, 7, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		q := Gaussian{Mean: constF64(g, []float64{0.5, -1, 0.2}, 1, 3), LogVar: constF64(g, []float64{-0.5, 0.3, -1.5}, 1, 3)}
		p := Gaussian{Mean: constF64(g, []float64{-0.2, 0.4, 1}, 1, 3), LogVar: constF64(g, []float64{0.2, -0.3, 0.5}, 1, 3)}
		z := q.SampleN(scope, k) // [k, 1, 3]
		logQ := q.LogDensity(z)
		mcStd := graph.ReduceAllMean(graph.Sub(logQ, StdNormalLogDensity(z)))
		mcP := graph.ReduceAllMean(graph.Sub(logQ, p.LogDensity(z)))
		return []*graph.Node{KLStdNormal(q), mcStd, KLGaussians(q, p), mcP}
	})
	// Monte-Carlo standard error here is ~0.005; allow 4σ.
	near(t, "MC KL(q‖N(0,I))", out[1][0], out[0][0], 0.02)
	near(t, "MC KL(q‖p)", out[3][0], out[2][0], 0.02)
}

func TestLogDensityMatchesFormula(t *testing.T) {
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		q := Gaussian{Mean: constF64(g, []float64{1, -2}, 1, 2), LogVar: constF64(g, []float64{math.Log(4), 0}, 1, 2)}
		return []*graph.Node{q.LogDensity(constF64(g, []float64{2, -2}, 1, 2))}
	})
	// N(2; 1, 4) · N(-2; -2, 1)
	want := -0.5*(math.Log(2*math.Pi)+math.Log(4)+0.25) - 0.5*math.Log(2*math.Pi)
	near(t, "log q(z)", out[0][0], want, 1e-12)
}

func TestReparameterizationMoments(t *testing.T) {
	out := eval(t, 3, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		q := Gaussian{Mean: constF64(g, []float64{2}, 1, 1), LogVar: constF64(g, []float64{math.Log(0.25)}, 1, 1)}
		z := q.SampleN(scope, 100000)
		m := graph.ReduceAllMean(z)
		return []*graph.Node{m, graph.ReduceAllMean(graph.Square(graph.Sub(z, m)))}
	})
	near(t, "sample mean", out[0][0], 2, 0.01)
	near(t, "sample variance", out[1][0], 0.25, 0.01)
}

func TestBernoulliLogLikMatchesDefinition(t *testing.T) {
	x := []float64{0, 1, 0.3, 0.9, 0, 1}
	logits := []float64{-3, 2, 0.1, 40, -40, -0.5}
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		return []*graph.Node{BernoulliLogLik(constF64(g, x, 2, 3), constF64(g, logits, 2, 3))}
	})
	for row := 0; row < 2; row++ {
		want := 0.0
		for i := 3 * row; i < 3*row+3; i++ {
			// log σ(l) = −log(1+e^{−l}), log(1−σ(l)) = −log(1+e^{l}), computed stably in float64.
			want += x[i]*-softplus(-logits[i]) + (1-x[i])*-softplus(logits[i])
		}
		near(t, "log p(x|logits)", out[0][row], want, 1e-9)
	}
}

func softplus(x float64) float64 { return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))) }

// TestBCEGradientFiniteDifferences checks the custom gradient of BCEWithLogits
// against central finite differences of its own value.
func TestBCEGradientFiniteDifferences(t *testing.T) {
	x := []float64{0, 1, 0.3, 0.9, 0.5, 0.05}
	logits := []float64{-3, 2, 0.1, 4, -6, 0.7}
	loss := func(g *graph.Graph, l *graph.Node) *graph.Node {
		return graph.ReduceAllSum(BCEWithLogits(constF64(g, x, 1, 6), l))
	}
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		l := constF64(g, logits, 1, 6)
		return graph.Gradient(loss(g, l), l)
	})
	const h = 1e-6
	for i := range logits {
		plus, minus := append([]float64(nil), logits...), append([]float64(nil), logits...)
		plus[i] += h
		minus[i] -= h
		vals := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
			return []*graph.Node{loss(g, constF64(g, plus, 1, 6)), loss(g, constF64(g, minus, 1, 6))}
		})
		near(t, "dBCE/dl", out[0][i], (vals[0][0]-vals[1][0])/(2*h), 1e-6)
	}
}

func TestGaussianLogLik(t *testing.T) {
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		x := constF64(g, []float64{0.5, 0.2}, 1, 2)
		mean := constF64(g, []float64{0.4, 0.2}, 1, 2)
		return []*graph.Node{GaussianLogLik(x, mean, graph.Const(g, math.Log(0.01)))}
	})
	want := -0.5*(0.01/0.01+math.Log(0.01)+math.Log(2*math.Pi)) - 0.5*(math.Log(0.01)+math.Log(2*math.Pi))
	near(t, "log N(x; mean, 0.01)", out[0][0], want, 1e-9)
}

func TestLogMeanExp(t *testing.T) {
	vals := []float64{-1000, -1001, -999.5, 3, 1, 2}
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		return []*graph.Node{LogMeanExp(constF64(g, vals, 3, 2), 0)}
	})
	// Columns: (-1000, -999.5, 1) and (-1001, 3, 2).
	col := func(a ...float64) float64 {
		m := math.Inf(-1)
		for _, v := range a {
			m = math.Max(m, v)
		}
		s := 0.0
		for _, v := range a {
			s += math.Exp(v - m)
		}
		return m + math.Log(s/float64(len(a)))
	}
	near(t, "LogMeanExp col 0", out[0][0], col(-1000, -999.5, 1), 1e-9)
	near(t, "LogMeanExp col 1", out[0][1], col(-1001, 3, 2), 1e-9)
}

func TestDenseInitStatistics(t *testing.T) {
	for _, init := range append(Inits, InitDCGAN) {
		out := eval(t, 5, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
			x := graph.Zeros(g, shapesF32(1, 400))
			Dense(scope.At("d"), x, 300, init)
			w := scope.At("d").GetVariable("weights").NodeValue(g)
			b := scope.At("d").GetVariable("biases").NodeValue(g)
			return []*graph.Node{graph.ReduceAllMean(w), graph.ReduceAllMean(graph.Square(w)), graph.ReduceAllMax(graph.Abs(w)), graph.ReduceAllMax(graph.Abs(b))}
		})
		mean, meanSq, maxW, maxB := out[0][0], out[1][0], out[2][0], out[3][0]
		near(t, string(init)+" weight mean", mean, 0, 0.002)
		switch init {
		case InitPyTorch:
			bound := 1 / math.Sqrt(400)
			near(t, "pytorch weight variance (bound²/3)", meanSq, bound*bound/3, 0.03*bound*bound)
			if maxW > bound || maxB > bound || maxB == 0 {
				t.Errorf("pytorch init: max|w|=%g max|b|=%g, want within (0, %g]", maxW, maxB, bound)
			}
		case InitHe, InitDCGAN:
			want := 2.0 / 400 // fan_in
			if init == InitDCGAN {
				want = 0.02 * 0.02
			}
			near(t, string(init)+" weight variance", meanSq, want, 0.03*want)
			if maxB != 0 {
				t.Errorf("%s init: biases should be zero, max |b| = %g", init, maxB)
			}
		}
	}
}

func TestParseInit(t *testing.T) {
	if _, err := ParseInit("xavier"); err == nil {
		t.Fatal("ParseInit(xavier) should fail")
	}
	if i, err := ParseInit("he"); err != nil || i != InitHe {
		t.Fatalf("ParseInit(he) = %v, %v", i, err)
	}
}

func shapesF32(dims ...int) shapes.Shape { return shapes.Make(dtypes.Float32, dims...) }

func TestLog1pUnit(t *testing.T) {
	const n = 10001
	u := make([]float64, n)
	for i := range u {
		u[i] = float64(i) / (n - 1)
	}
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		return []*graph.Node{log1pUnit(constF64(g, u, n))}
	})
	worst := 0.0
	for i, v := range u {
		worst = math.Max(worst, math.Abs(out[0][i]-math.Log1p(v)))
	}
	if worst > 2e-9 {
		t.Errorf("max |log1pUnit(u) − log1p(u)| on [0,1] = %.3g, want ≤ 2e-9", worst)
	}
}

// TestBCEMatchesFloat64Reference checks the float32 BCE against a float64
// reference across the logit range a VAE decoder produces.
func TestBCEMatchesFloat64Reference(t *testing.T) {
	var x, l []float32
	for i := -400; i <= 400; i++ {
		for _, xv := range []float32{0, 0.25, 1} {
			x, l = append(x, xv), append(l, float32(i)/10)
		}
	}
	out := eval(t, 1, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		xs := graph.Const(g, tensors.FromFlatDataAndDimensions(x, len(x)))
		ls := graph.Const(g, tensors.FromFlatDataAndDimensions(l, len(l)))
		return []*graph.Node{BCEWithLogits(xs, ls)}
	})
	for i := range x {
		want := softplus(float64(l[i])) - float64(x[i])*float64(l[i])
		if d := math.Abs(out[0][i] - want); d > 1e-5+1e-6*math.Abs(want) {
			t.Fatalf("BCE(x=%g, l=%g) = %.8g, float64 reference %.8g", x[i], l[i], out[0][i], want)
		}
	}
}
