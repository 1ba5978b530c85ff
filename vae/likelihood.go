package vae

import (
	"github.com/gomlx/gomlx/core/graph"
)

// BernoulliLogLik is log p(x | logits) of independent Bernoulli pixels, summed
// over every axis but the first ([B], nats). x may be grey levels in [0, 1]
// (the usual "continuous Bernoulli-free" convention of pytorch/examples: the
// negative is the summed binary cross-entropy). Computed from logits without
// forming sigmoid: log p = x·l − softplus(l).
func BernoulliLogLik(x, logits *graph.Node) *graph.Node {
	return graph.Neg(sumPerExample(BCEWithLogits(x, logits)))
}

// BCEWithLogits is the element-wise binary cross-entropy between targets x in
// [0, 1] and sigmoid(logits): softplus(l) − x·l, in the stable form
// max(l, 0) − x·l + log(1 + exp(−|l|)).
//
// Its gradient with respect to the logits is set to the exact sigmoid(l) − x,
// which the Go backend computes with SIMD kernels (Logistic) instead of
// differentiating through log1p and a select.
func BCEWithLogits(x, logits *graph.Node) *graph.Node {
	logits = graph.IdentityWithCustomGradient(logits, func(l, v *graph.Node) *graph.Node {
		// v is the incoming cotangent; the local derivative of the value below with
		// respect to l is sigmoid(l) − x. The value's own autodiff path is stopped.
		return graph.Mul(v, graph.Sub(graph.Logistic(l), x))
	})
	l := graph.StopGradient(logits)
	value := graph.Add(graph.Sub(graph.Max(l, graph.ZerosLike(l)), graph.Mul(x, l)), log1pUnit(graph.Exp(graph.Neg(graph.Abs(l)))))
	// Reattach the gradient: value + (logits − stop(logits)) has value `value` and
	// derivative 1 with respect to logits, which the custom gradient above turns
	// into sigmoid(l) − x.
	return graph.Add(value, graph.Sub(logits, l))
}

// GaussianLogLik is log N(x; mean, exp(logVar)) summed over every axis but the
// first ([B], nats). logVar broadcasts (a scalar gives a fixed, shared variance).
func GaussianLogLik(x, mean, logVar *graph.Node) *graph.Node {
	if logVar.Rank() < x.Rank() {
		logVar = graph.BroadcastToShape(logVar, x.Shape())
	}
	quad := graph.Mul(graph.Square(graph.Sub(x, mean)), graph.Exp(graph.Neg(logVar)))
	perPixel := graph.MulScalar(graph.AddScalar(graph.Add(quad, logVar), log2Pi), -0.5)
	return sumPerExample(perPixel)
}

// sumPerExample reduces every axis but the first.
func sumPerExample(x *graph.Node) *graph.Node {
	if x.Rank() == 1 {
		return x
	}
	axes := make([]int, x.Rank()-1)
	for i := range axes {
		axes[i] = i + 1
	}
	return graph.ReduceSum(x, axes...)
}

// log1pUnit is log(1 + u) for u in [0, 1], written with ops the Go backend
// runs as SIMD kernels (its Log1p is scalar and was a quarter of an MLP VAE
// step): log(1+u) = 2·atanh(s) with s = u/(2+u) ∈ [0, 1/3], and the series
// 2s·Σ s^(2k)/(2k+1) truncated after s¹⁴ has an absolute error below 1e-9
// there — under float32 rounding. TestLog1pUnit checks it against math.Log1p.
func log1pUnit(u *graph.Node) *graph.Node {
	s := graph.Div(u, graph.AddScalar(u, 2))
	t := graph.Mul(s, s)
	p := graph.AddScalar(graph.MulScalar(t, 1.0/15), 1.0/13)
	for _, c := range []float64{1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1} {
		p = graph.AddScalar(graph.Mul(p, t), c)
	}
	return graph.Mul(graph.MulScalar(s, 2), p)
}
