package experiments

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
)

type reconModel interface {
	vae.Model
	vae.Reconstructor
}

// frameScorer replaces a model's likelihood by a score known in advance:
// −log p̂(x) = 1000·[label = held] + the ink in the image's outer 2-pixel
// frame. MNIST digits leave that frame (nearly) empty, so the held-out class
// scores above every other example, a noisy image (noise everywhere, clipped
// at 0) above nearly every clean one, a quarter turn (the frame onto itself)
// like the originals, and an occlusion (a square over the middle) exactly
// like them.
type frameScorer struct {
	reconModel
	held int
}

func (m frameScorer) LogLikelihood(_ *model.Scope, b vae.Batch, _ int) *graph.Node {
	dims := b.X.Shape().Dimensions
	h, w := dims[1], dims[2]
	mask := make([]float32, h*w*dims[3])
	for y := range h {
		for x := range w {
			if y < 2 || y >= h-2 || x < 2 || x >= w-2 {
				mask[y*w+x] = 1
			}
		}
	}
	g := b.X.Graph()
	frame := graph.ReduceSum(graph.Mul(vae.Flatten(b.X), graph.Reshape(graph.Const(g, mask), 1, -1)), -1)
	isHeld := graph.ConvertDType(graph.Equal(b.Labels, graph.Scalar(g, dtypes.Int32, m.held)), dtypes.Float32)
	return graph.Neg(graph.Add(frame, graph.MulScalar(isHeld, 1000)))
}

func TestAnomalyKnownAnswers(t *testing.T) {
	db := openDB(t)
	spec := tinySpec(5)
	spec.Data.ExcludeClasses = []int{1}
	tr, _ := trainAndLoad(t, db, spec)
	tr.Model = frameScorer{reconModel: tr.Model.(reconModel), held: 1}
	vals, err := tr.anomaly(200, 3, func(string, ...any) {})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]eval.Value{}
	for _, v := range vals {
		got[v.Name] = v
		if v.Version != eval.AnomalyVersion || math.IsNaN(v.Value) || v.Value < 0 || v.Value > 1 {
			t.Errorf("%s: %+v", v.Name, v)
		}
	}
	// 4 cases × 3 scores: the VAE has a negative ELBO, (here) an importance sampler and reconstructions.
	if len(vals) != 12 {
		t.Errorf("%d values, want 12: %v", len(vals), got)
	}
	for name, want := range map[string]float64{
		"anomaly/heldout/iwae": 1, "anomaly/noise/iwae": 1, "anomaly/occlusion/iwae": 0.5, "anomaly/rotation/iwae": 0.5,
	} {
		v, ok := got[name]
		if !ok {
			t.Errorf("no %s", name)
			continue
		}
		if math.Abs(v.Value-want) > 0.02 {
			t.Errorf("%s = %.4f, want %.2f", name, v.Value, want)
		}
	}
	h := got["anomaly/heldout/nelbo"].Settings
	// The first 200 MNIST test images hold 28 ones.
	if h["excluded"] != "1" || h["anomalous"] != "28" || h["normal"] != "172" || h["split"] != "test" {
		t.Errorf("heldout settings %v", h)
	}
	if s := got["anomaly/noise/iwae"].Settings; s["sigma"] != "0.2" || s["k"] != "3" || s["anomalous"] != "172" {
		t.Errorf("noise settings %v", s)
	}
	if _, ok := got["anomaly/rotation/recon"].Settings["k"]; ok {
		t.Error("the recon score records an importance-sample count")
	}
}

// TestAnomalyThroughEvaluate records the figures with their versions, and a
// family with no per-example score is refused before any work.
func TestAnomalyThroughEvaluate(t *testing.T) {
	db := openDB(t)
	id := trainTinyRun(t, db, "ae")
	vals, _, err := Evaluate(db, id, EvalOptions{Metrics: []string{"anomaly"}, Samples: 60})
	if err != nil {
		t.Fatal(err)
	}
	// The autoencoder trained on every class: three corruptions, its one score.
	names := map[string]bool{}
	for _, v := range vals {
		names[v.Name] = true
	}
	for _, want := range []string{"anomaly/noise/recon", "anomaly/occlusion/recon", "anomaly/rotation/recon"} {
		if !names[want] {
			t.Errorf("no %s in %v", want, names)
		}
	}
	if len(vals) != 3 {
		t.Errorf("%d values, want 3", len(vals))
	}
	tags, err := db.Tags(id)
	if err != nil {
		t.Fatal(err)
	}
	if tag := tags["eval/anomaly/rotation/recon"]; !strings.HasPrefix(tag, eval.AnomalyVersion+" ") || !strings.Contains(tag, "degrees=90") {
		t.Errorf("tag = %q", tag)
	}
	ms, _ := db.LatestMetrics(id)
	n := 0
	for _, m := range ms {
		if strings.HasPrefix(m.Key, tracker.EvalPrefix+"anomaly/") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d anomaly rows recorded, want 3", n)
	}

	tr, err := Load(db, id)
	if err != nil {
		t.Fatal(err)
	}
	tr.Model = scoreless{tr.Model}
	if err := needs(tr, "anomaly"); err == nil || !strings.Contains(err.Error(), "per-example score") {
		t.Errorf("a model with no score: %v", err)
	}
	if _, _, err := Evaluate(db, id, EvalOptions{Metrics: []string{"anomaly"}, Samples: 60}); err != nil && errors.Is(err, ErrCapability) {
		t.Errorf("the autoencoder itself refused: %v", err)
	}
}

// scoreless hides every capability of a model but its loss, and drops its NELBO.
type scoreless struct{ m vae.Model }

func (s scoreless) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	l := s.m.Loss(scope, b)
	l.NELBO = nil
	return l
}

func (s scoreless) Generate(scope *model.Scope, g *graph.Graph, n int, labels *graph.Node) *graph.Node {
	return s.m.Generate(scope, g, n, labels)
}
