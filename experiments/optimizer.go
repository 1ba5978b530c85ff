package experiments

import (
	"fmt"
	"math"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vaexp/vaexp/vae"
)

// familyOptimizer runs Adam on the main objective and, for families that
// declare [vae.AuxObjective]s (discriminators), one more Adam per auxiliary
// objective on the variables under its scope only. The main objective never
// updates auxiliary variables. GoMLX's trainer calls UpdateGraph once per
// training graph with the main loss; the auxiliary objectives of that graph
// are looked up with aux.
type familyOptimizer struct {
	main       optimizer.Interface
	modelScope string
	aux        func(g *graph.Graph) []vae.AuxObjective
	// auxOnly builds steps that update only the auxiliary objectives (the
	// k−1 discriminator-only steps of a schedule with AuxSteps = k); the
	// global step still counts them.
	auxOnly bool
	// schedule sets the main learning rate from the global step (nil: constant).
	schedule *lrSchedule
}

// lrSchedule is a [variants.Training] learning-rate schedule inside the
// training graph: the rate is a function of the global step, so a resumed
// run continues on it where it stopped.
type lrSchedule struct {
	name          string
	base          float64
	stepsPerEpoch int
}

// apply sets the main Adam's learning-rate variable (created here with the
// base rate if the Adam has not made it yet) to the schedule's value at the
// step being taken.
func (s *lrSchedule) apply(scope *model.Scope, g *graph.Graph, dtype dtypes.DType) {
	if s == nil || s.name == "" || s.name == "constant" {
		return
	}
	if s.name != "burda2016" {
		panic(fmt.Sprintf("learning-rate schedule %q: unknown (the family's Training should reject it)", s.name))
	}
	// Stage i = the number of stage starts (3^j − 1)/2 epochs (j ≥ 1) already
	// reached: integer comparisons on the step, exact at every boundary.
	step := optimizer.GetGlobalStepVar(scope).NodeValue(g) // steps taken before this one
	stage := graph.ScalarZero(g, dtype)
	for start, length := int64(1), int64(3); start < 1<<40/int64(max(s.stepsPerEpoch, 1)); start, length = start+length, length*3 {
		reached := graph.GreaterOrEqual(step, graph.Scalar(g, step.DType(), start*int64(s.stepsPerEpoch)))
		stage = graph.Add(stage, graph.ConvertDType(reached, dtype))
	}
	lr := graph.MulScalar(graph.Exp(graph.MulScalar(stage, -math.Ln10/7)), s.base)
	optimizer.LearningRateVar(scope, dtype, s.base).SetNodeValue(lr)
}

// UpdateGraph implements optimizer.Interface.
func (o *familyOptimizer) UpdateGraph(scope *model.Scope, g *graph.Graph, loss *graph.Node) {
	o.schedule.apply(scope, g, loss.DType())
	auxs := o.aux(g)
	if len(auxs) == 0 {
		if o.auxOnly {
			panic("the family declares auxiliary steps (Training.AuxSteps > 1) but its loss has no auxiliary objective")
		}
		o.main.UpdateGraph(scope, g, loss)
		return
	}
	store := scope.Store()
	paths := make([]string, len(auxs))
	for i, a := range auxs {
		paths[i] = model.JoinPath(o.modelScope, a.Scope)
	}
	// GoMLX's Adam trains every trainable variable under its scope: hide the
	// auxiliary variables from the main update, and everything else from each
	// auxiliary update, by toggling Trainable while the updates are built.
	// Only variables trainable on entry are toggled (a discriminator's
	// non-trainable state, or an Adam's step counter and learning rate, which
	// the auxiliary Adam keeps under the auxiliary scope, stay frozen), and
	// every flag is restored on exit, even when graph building panics.
	trainable := map[*model.Variable]bool{}
	for v := range store.IterVariables() {
		trainable[v] = v.Trainable
	}
	defer func() {
		for v, on := range trainable {
			v.SetTrainable(on)
		}
	}()
	setTrainable := func(path string, on bool) {
		for v := range store.IterVariables() {
			if trainable[v] && under(v.Path(), path) {
				v.SetTrainable(on)
			}
		}
	}
	for _, p := range paths {
		setTrainable(p, false)
	}
	if o.auxOnly {
		_ = optimizer.IncrementGlobalStep(g, loss.DType())
	} else {
		o.main.UpdateGraph(scope, g, loss)
	}
	// Every Adam increments the global step; keep the main one's count.
	stepVar := optimizer.GetGlobalStepVar(store)
	step := stepVar.NodeValue(g)
	for i, a := range auxs {
		if !(a.LearningRate > 0) {
			panic(fmt.Sprintf("auxiliary objective %q: learning rate %v must be > 0 (the family's config should reject it)", a.Scope, a.LearningRate))
		}
		setTrainable(paths[i], true)
		cfg := optimizer.Adam().LearningRate(a.LearningRate).Scope("aux_adam")
		if a.Beta1 != 0 || a.Beta2 != 0 {
			b1, b2 := a.Beta1, a.Beta2
			if b1 == 0 {
				b1 = 0.9
			}
			if b2 == 0 {
				b2 = 0.999
			}
			cfg = cfg.Betas(b1, b2)
		}
		l := a.Loss
		if l.Rank() > 0 {
			l = graph.ReduceAllMean(l)
		}
		cfg.Done().UpdateGraph(store.Scope(paths[i]), g, l)
		setTrainable(paths[i], false)
	}
	stepVar.SetNodeValue(step)
}

// Clear implements optimizer.Interface.
func (o *familyOptimizer) Clear(scope *model.Scope) error { return o.main.Clear(scope) }

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, strings.TrimSuffix(prefix, "/")+"/")
}
