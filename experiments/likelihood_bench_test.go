package experiments

import (
	"context"
	"testing"
	"time"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/vae"
)

// BenchmarkIWAEEstimate times the k = 5000 importance-weighted estimate of
// the IWAE paper's one-layer model (784-200-200-50 tanh, untrained: the time
// does not depend on the weights) over 20 dynamically binarized test images,
// by the fused path (experiments/iwae) and by the family's graph
// (LogLikelihood, batches of 4 images as the evaluator runs it), and reports
// the time the 10000 test images would take.
//
//	go test -run xxx -bench IWAEEstimate -benchtime 1x ./experiments/
func BenchmarkIWAEEstimate(b *testing.B) {
	const n, k = 20, 5000
	im, err := data.LoadMNIST("", "test")
	if err != nil {
		b.Fatal(err)
	}
	desc := data.MNIST{}.Describe()
	set := &exampleSet{split: data.Head(im, n), binarize: "dynamic", seed: 1, shape: desc.Shape}
	spec := DefaultSpec()
	spec.Family = "iwae"
	cfg, err := spec.Validate()
	if err != nil {
		b.Fatal(err)
	}
	m := cfg.Build(spec.DataInfo(desc))
	store := model.NewStore()
	_ = store.SetRNGStateFromSeed(1)
	// Create the variables (as training would) before the evaluation graphs read them.
	if _, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, g *graph.Graph) *graph.Node {
		return m.Generate(scope.At(modelScope), g, 1, nil)
	}); err != nil {
		b.Fatal(err)
	}
	e := newEvaluator(context.Background(), gobackend.GetBackend(), store, m)
	for _, path := range []string{"fused", "graph"} {
		b.Run(path, func(b *testing.B) {
			if path == "fused" {
				if _, _, ok := e.iwaeLayers(); !ok {
					b.Skip("no fused path on this machine or build")
				}
			}
			var took time.Duration
			for i := 0; i < b.N; i++ {
				began := time.Now()
				var err error
				if path == "fused" {
					_, _, err = e.logLikelihood(set, k, 500, "bench")
				} else {
					_, err = e.graphLogLikelihood(m.(vae.LikelihoodEstimator), set, k, 4, "bench")
				}
				if err != nil {
					b.Fatal(err)
				}
				took += time.Since(began)
			}
			b.ReportMetric(took.Seconds()/float64(b.N)*10000/n, "s/10k")
		})
	}
}
