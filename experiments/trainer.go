package experiments

import (
	"fmt"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vaexp/vaexp/vae"
)

// maxTerms bounds the loss outputs a family may return (terms, loss, nelbo).
const maxTerms = 16

// newTrainer builds GoMLX's trainer for a family: the family's loss is
// registered as the trainer's main loss from inside the model function, its
// auxiliary objectives get their own optimizers (familyOptimizer), and each
// loss output is returned as one scalar metric so every term is recorded.
// names is filled with the outputs' names when the training graph is built
// (at the first step).
func newTrainer(backend compute.Backend, store *model.Store, m vae.Model, family string, lr float64) (*train.Trainer, *[]string) {
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
		outNames, nodes := lossOutputs(loss, x.Shape().Dimensions[0])
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
	opt := &familyOptimizer{
		main:       optimizer.Adam().LearningRate(lr).Done(),
		modelScope: "/" + modelScope,
		aux: func(g *graph.Graph) []vae.AuxObjective {
			auxMu.Lock()
			defer auxMu.Unlock()
			return auxByGraph[g.GraphId()]
		},
	}
	// GoMLX metrics are scalars fixed when the trainer is made, before the
	// family's term names are known: one metric per output slot.
	termMetrics := make([]metric.Interface, maxTerms)
	for i := range termMetrics {
		termMetrics[i] = metric.NewBaseMetric(fmt.Sprintf("term%d", i), fmt.Sprintf("t%d", i), "term",
			func(_ *model.Scope, _, predictions []*graph.Node) *graph.Node { return predictions[i] }, nil)
	}
	return train.NewTrainer(backend, store, modelFn, nil, opt, termMetrics, nil), names
}
