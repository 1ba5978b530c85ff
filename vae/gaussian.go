package vae

import (
	"math"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// log2Pi is log(2π), the constant of every Gaussian log-density.
var log2Pi = math.Log(2 * math.Pi)

// Gaussian is a diagonal Gaussian over the last axis: mean and log-variance
// have the same shape, [..., D].
type Gaussian struct {
	Mean, LogVar *graph.Node
}

// GaussianFromParams splits a [B, 2·D] encoder output into mean and log-variance.
func GaussianFromParams(params *graph.Node) Gaussian {
	d := params.Shape().Dimensions[params.Rank()-1] / 2
	return Gaussian{
		Mean:   graph.Slice(params, graph.AxisRange(), graph.AxisRange(0, d)),
		LogVar: graph.Slice(params, graph.AxisRange(), graph.AxisRange(d, 2*d)),
	}
}

// Std is exp(LogVar / 2).
func (q Gaussian) Std() *graph.Node { return graph.Exp(graph.MulScalar(q.LogVar, 0.5)) }

// Sample draws one sample with the reparameterization trick,
// z = μ + σ·ε with ε ~ N(0, I) from the scope's random state, so gradients
// flow to μ and log σ².
func (q Gaussian) Sample(scope *model.Scope) *graph.Node {
	eps := scope.RandomNormal(q.Mean.Graph(), q.Mean.Shape())
	return graph.Add(q.Mean, graph.Mul(q.Std(), eps))
}

// SampleN draws k reparameterized samples, [k, ...] (a leading sample axis).
func (q Gaussian) SampleN(scope *model.Scope, k int) *graph.Node {
	shape := q.Mean.Shape().Clone()
	shape.Dimensions = append([]int{k}, shape.Dimensions...)
	eps := scope.RandomNormal(q.Mean.Graph(), shape)
	mean := graph.InsertAxes(q.Mean, 0)
	std := graph.InsertAxes(q.Std(), 0)
	return graph.Add(mean, graph.Mul(std, eps))
}

// LogDensity is log q(z) summed over the last axis. z may carry extra leading
// axes (e.g. [k, B, D] samples for a [B, D] Gaussian); they broadcast.
func (q Gaussian) LogDensity(z *graph.Node) *graph.Node {
	mean, logVar := q.Mean, q.LogVar
	for mean.Rank() < z.Rank() {
		mean, logVar = graph.InsertAxes(mean, 0), graph.InsertAxes(logVar, 0)
	}
	diff := graph.Sub(z, mean)
	quad := graph.Mul(graph.Square(diff), graph.Exp(graph.Neg(logVar)))
	perDim := graph.MulScalar(graph.AddScalar(graph.Add(quad, logVar), log2Pi), -0.5)
	return graph.ReduceSum(perDim, -1)
}

// StdNormalLogDensity is log N(z; 0, I) summed over the last axis.
func StdNormalLogDensity(z *graph.Node) *graph.Node {
	perDim := graph.MulScalar(graph.AddScalar(graph.Square(z), log2Pi), -0.5)
	return graph.ReduceSum(perDim, -1)
}

// KLStdNormal is the analytic KL(q ‖ N(0, I)) summed over the last axis, in nats:
// ½ Σ (σ² + μ² − 1 − log σ²).
func KLStdNormal(q Gaussian) *graph.Node {
	perDim := graph.Sub(graph.Add(graph.Exp(q.LogVar), graph.Square(q.Mean)), graph.AddScalar(q.LogVar, 1))
	return graph.MulScalar(graph.ReduceSum(perDim, -1), 0.5)
}

// KLGaussians is the analytic KL(q ‖ p) between diagonal Gaussians, summed over
// the last axis, in nats: ½ Σ (log σp² − log σq² + (σq² + (μq − μp)²)/σp² − 1).
func KLGaussians(q, p Gaussian) *graph.Node {
	varRatio := graph.Exp(graph.Sub(q.LogVar, p.LogVar))
	meanTerm := graph.Mul(graph.Square(graph.Sub(q.Mean, p.Mean)), graph.Exp(graph.Neg(p.LogVar)))
	perDim := graph.Sub(graph.Add(graph.Sub(p.LogVar, q.LogVar), graph.Add(varRatio, meanTerm)), graph.OnesLike(varRatio))
	return graph.MulScalar(graph.ReduceSum(perDim, -1), 0.5)
}

// LogMeanExp is log(mean(exp(x))) along axis, computed stably by shifting by
// the maximum: the k-sample importance-weighted bound is LogMeanExp of the
// log-weights along the sample axis.
func LogMeanExp(x *graph.Node, axis int) *graph.Node {
	k := x.Shape().Dimensions[normalizeAxis(x, axis)]
	shift := graph.StopGradient(graph.ReduceMax(x, axis))
	shifted := graph.Sub(x, graph.ExpandAxes(shift, normalizeAxis(x, axis)))
	sum := graph.ReduceSum(graph.Exp(shifted), axis)
	return graph.AddScalar(graph.Add(graph.Log(sum), shift), -math.Log(float64(k)))
}

func normalizeAxis(x *graph.Node, axis int) int {
	if axis < 0 {
		return x.Rank() + axis
	}
	return axis
}
