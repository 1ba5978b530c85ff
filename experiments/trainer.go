package experiments

import (
	"fmt"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// maxTerms bounds the loss outputs a family may return (terms, loss, nelbo).
const maxTerms = 16

// stepper runs one training step of a family as its [variants.Training]
// declares: with AuxSteps = k > 1, k−1 steps update only the auxiliary
// objectives and every k-th step updates everything. Each kind of step is a
// GoMLX trainer of its own over the one Store, so both see the same variables.
type stepper struct {
	joint, auxOnly *train.Trainer
	auxSteps       int
	// names is filled with the outputs' names when the first training graph is built.
	names *[]string
	// schedule is the main learning rate's schedule; its epoch length is set
	// (setEpochLength) before the first step builds the graph.
	schedule *lrSchedule
}

// setEpochLength tells the learning-rate schedule how many steps an epoch has;
// call it before the first step.
func (s *stepper) setEpochLength(steps int) { s.schedule.stepsPerEpoch = steps }

// trainStep runs global step `step` (0-based) on batch and returns the
// trainer's outputs (see readTerms).
func (s *stepper) trainStep(step int, batch train.Batch) ([]*tensors.Tensor, error) {
	t := s.joint
	if s.auxSteps > 1 && step%s.auxSteps != s.auxSteps-1 {
		t = s.auxOnly
	}
	return t.TrainStep(batch)
}

// newStepper builds the trainers for a family: its loss is registered as the
// trainer's main loss from inside the model function, its main objective gets
// the Adam its Training declares, its auxiliary objectives their own Adams
// (familyOptimizer), and each loss output is returned as one scalar metric
// so every term is recorded.
func newStepper(backend compute.Backend, store *model.Store, m vae.Model, family string, tr variants.Training) *stepper {
	names := new([]string)
	auxByGraph := map[graph.GraphId][]vae.AuxObjective{}
	var auxMu sync.Mutex
	modelFn := func(scope *model.Scope, inputs []*graph.Node) []*graph.Node {
		x := inputs[0]
		loss := m.Loss(scope.At(modelScope), vae.Batch{X: x, Labels: inputs[1]})
		train.AddMainLoss(loss.Total())
		auxMu.Lock()
		auxByGraph[x.Graph().GraphId()] = loss.Aux
		auxMu.Unlock()
		outNames, nodes := loss.Outputs(x.Shape().Dimensions[0])
		if len(nodes) > maxTerms {
			panic(fmt.Sprintf("family %s returns %d loss outputs, more than the %d the driver records", family, len(nodes), maxTerms))
		}
		out := make([]*graph.Node, maxTerms)
		for i := range out {
			if i < len(nodes) {
				out[i] = graph.ReduceAllMean(nodes[i])
			} else {
				out[i] = graph.ScalarZero(x.Graph(), x.DType())
			}
		}
		*names = outNames
		return out
	}
	auxOf := func(g *graph.Graph) []vae.AuxObjective {
		auxMu.Lock()
		defer auxMu.Unlock()
		return auxByGraph[g.GraphId()]
	}
	// GoMLX metrics are scalars fixed when the trainer is made, before the
	// family's term names are known: one metric per output slot.
	termMetrics := make([]metric.Interface, maxTerms)
	for i := range termMetrics {
		termMetrics[i] = metric.NewBaseMetric(fmt.Sprintf("term%d", i), fmt.Sprintf("t%d", i), "term",
			func(_ *model.Scope, _, predictions []*graph.Node) *graph.Node { return predictions[i] }, nil)
	}
	adam := optimizer.Adam().LearningRate(tr.LR).Betas(tr.Beta1, tr.Beta2)
	if tr.Epsilon > 0 {
		adam = adam.Epsilon(tr.Epsilon)
	}
	main := adam.Done()
	s := &stepper{auxSteps: tr.AuxSteps, names: names, schedule: &lrSchedule{name: tr.LRSchedule, base: tr.LR, stepsPerEpoch: 1}}
	s.joint = train.NewTrainer(backend, store, modelFn, nil,
		&familyOptimizer{main: main, modelScope: "/" + modelScope, aux: auxOf, schedule: s.schedule}, termMetrics, nil)
	if tr.AuxSteps > 1 {
		s.auxOnly = train.NewTrainer(backend, store, modelFn, nil,
			&familyOptimizer{main: main, modelScope: "/" + modelScope, aux: auxOf, auxOnly: true}, termMetrics, nil)
	}
	return s
}
