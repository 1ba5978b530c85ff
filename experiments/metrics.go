package experiments

import (
	"fmt"
	"sort"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

// Metrics lists the metric keys a run of spec records: "train/<term>" and
// "test/<term>" for each of its family's loss outputs, "val/<term>" when the
// spec carves out a validation split, "test/iwae_nll" when it asks for an
// IWAE estimate and the family has one, the sample grids' diversity, FID
// and IS when the spec asks for them, and the "time/…" measurements. It
// validates the spec and builds (without running or loading data) the
// family's loss graph for a batch of eight, so a sweep can check its metric
// before anything trains.
func Metrics(spec Spec) ([]string, error) {
	cfg, err := spec.Validate()
	if err != nil {
		return nil, err
	}
	backend, err := NewBackend()
	if err != nil {
		return nil, err
	}
	defer backend.Finalize()
	desc, err := spec.Dataset()
	if err != nil {
		return nil, err
	}
	sh := desc.Shape
	m := cfg.Build(spec.DataInfo(desc))
	// A small batch, but not the smallest: some estimators (β-TCVAE's MSS)
	// need a few examples.
	batch := min(8, spec.Train.BatchSize)
	var names []string
	err = catch(func() error {
		exec, err := model.NewExec(backend, model.NewStore(), func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
			scope.SetTraining(x.Graph(), false)
			var nodes []*graph.Node
			names, nodes = m.Loss(scope.At(modelScope), vae.Batch{X: x, Labels: y}).Outputs(x.Shape().Dimensions[0])
			return nodes
		})
		if err != nil {
			return err
		}
		// Finalize only after a successful build: GoMLX's Exec.Finalize
		// blocks forever after a graph function panicked.
		if _, err = exec.Compile(shapes.Make(dtypes.Float32, sh.BatchDims(batch)...), shapes.Make(dtypes.Int32, batch)); err != nil {
			return err
		}
		exec.Finalize()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("model %s: build its loss: %w", spec.Family, err)
	}
	prefixes := []string{"train/", "test/"}
	if spec.Data.Val > 0 {
		prefixes = append(prefixes, "val/")
	}
	var out []string
	for _, p := range prefixes {
		for _, n := range names {
			out = append(out, p+n)
		}
	}
	if _, ok := m.(vae.LikelihoodEstimator); ok && spec.Eval.IWAEK > 0 {
		out = append(out, "test/iwae_nll")
	}
	if spec.Eval.Samples > 1 && !sh.IsSequence() {
		out = append(out, "samples/diversity")
	}
	if spec.Eval.Quality > 0 && mnistLike(spec.DataInfo(desc)) {
		out = append(out, "eval/fid", "eval/is")
	}
	out = append(out, "time/median_step_ms", "time/train_seconds")
	sort.Strings(out)
	return out, nil
}
