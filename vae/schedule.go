package vae

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// GlobalStep is the number of training steps taken so far, as a float32
// scalar node: the clock for warm-ups, annealing and ramps. It reads the
// trainer's global step (0 before the first step; during a training step it
// is the value before that step's update).
func GlobalStep(scope *model.Scope, g *graph.Graph) *graph.Node {
	return graph.ConvertDType(optimizer.GetGlobalStepVar(scope).NodeValue(g), dtypes.Float32)
}

// LinearRamp goes linearly from `from` to `to` over the first `steps` steps
// of step, then stays at `to` (steps <= 0 gives `to` at once).
func LinearRamp(step *graph.Node, from, to float64, steps int) *graph.Node {
	g := step.Graph()
	if steps <= 0 {
		return graph.Scalar(g, step.DType(), to)
	}
	frac := graph.MinScalar(graph.DivScalar(step, float64(steps)), 1.0)
	return graph.AddScalar(graph.MulScalar(frac, to-from), from)
}
