package experiments

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
)

// tinyClassifier is a classifier trained for a few steps in a temporary
// cache: its figures mean nothing, but it runs the whole path that the real
// one (eval.DefaultTrainConfig) runs.
func tinyClassifier(t *testing.T, tr *Trained) *eval.Classifier {
	t.Helper()
	c, _, err := eval.LoadClassifier(tr.Backend, eval.ClassifierOptions{CacheDir: t.TempDir(),
		Config: eval.TrainConfig{Epochs: 1, Steps: 5, BatchSize: 32, LearningRate: 1e-3, Seed: 3}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func trainTinyRun(t *testing.T, db *tracker.DB, family string) int64 {
	t.Helper()
	spec := tinySpec(5)
	spec.Family = family
	res, err := Run(context.Background(), spec, Options{DB: db, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return res.RunID
}

// TestEvaluateAddsRowsOnly evaluates a finished run and checks the figures
// and their versions are recorded at its last step while every row it
// already had stays as it was.
func TestEvaluateAddsRowsOnly(t *testing.T) {
	db := openDB(t)
	id := trainTinyRun(t, db, "vae")
	before, err := db.LatestMetrics(id)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Load(db, id)
	if err != nil {
		t.Fatal(err)
	}
	values, step, err := Evaluate(db, id, EvalOptions{Metrics: []string{"fid", "is", "pr", "au", "nll"}, Samples: 40, IWAEK: 4,
		Classifier: tinyClassifier(t, tr)})
	if err != nil {
		t.Fatal(err)
	}
	if step != 5 {
		t.Errorf("recorded at step %d, want the run's last step 5", step)
	}
	got := map[string]eval.Value{}
	for _, v := range values {
		got[v.Name] = v
	}
	for _, name := range []string{"fid", "is", "precision", "recall", "active_units", "nll"} {
		v, ok := got[name]
		if !ok || math.IsNaN(v.Value) || v.Version == "" {
			t.Errorf("%s: %+v", name, v)
		}
	}
	if s := got["nll"].Settings; s["k"] != "4" || s["n"] != "40" || s["split"] != "test" || s["binarize"] != "none" {
		t.Errorf("nll settings %v", s)
	}
	if au := got["active_units"].Value; au < 0 || au > 20 {
		t.Errorf("active units %v of a 20-d latent", au)
	}
	after, err := db.LatestMetrics(id)
	if err != nil {
		t.Fatal(err)
	}
	old := map[string]tracker.LatestMetric{}
	for _, m := range before {
		old[m.Key] = m
	}
	added := 0
	for _, m := range after {
		if strings.HasPrefix(m.Key, tracker.EvalPrefix) {
			added++
			continue
		}
		if o, ok := old[m.Key]; !ok || o != m {
			t.Errorf("training metric %s changed: %+v → %+v", m.Key, o, m)
		}
	}
	if added != len(values) || len(after)-added != len(before) {
		t.Errorf("%d metrics before, %d after with %d eval/ (recorded %d values)", len(before), len(after), added, len(values))
	}
	tags, err := db.Tags(id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tags["eval/fid"], eval.FIDVersion+" ") || !strings.Contains(tags["eval/fid"], "n=40") {
		t.Errorf("tag eval/fid = %q", tags["eval/fid"])
	}
}

// TestEvaluateAsksForCapabilities: a metric the family cannot provide fails
// before any work, naming what is missing, and records nothing.
func TestEvaluateAsksForCapabilities(t *testing.T) {
	db := openDB(t)
	id := trainTinyRun(t, db, "ae")
	_, _, err := Evaluate(db, id, EvalOptions{Metrics: []string{"au", "nll", "kl"}, Samples: 10})
	if !errors.Is(err, ErrCapability) {
		t.Fatalf("err = %v, want ErrCapability", err)
	}
	for _, want := range []string{"nll needs an importance sampler", "kl needs its Gaussian posterior", `"ae"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "au needs") {
		t.Errorf("au (the autoencoder has an encoder) reported missing: %v", err)
	}
	ms, _ := db.LatestMetrics(id)
	for _, m := range ms {
		if strings.HasPrefix(m.Key, tracker.EvalPrefix) {
			t.Errorf("a refused evaluation recorded %s", m.Key)
		}
	}
	if _, err := ParseEvalMetrics("fid,bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("ParseEvalMetrics(bogus): %v", err)
	}
}

// withPosterior gives a model a Gaussian posterior made of its codes and unit
// variances, so the KL path can be checked against eval.KLPerDim on the codes.
type withPosterior struct {
	encodingModel
}

type encodingModel interface {
	vae.Model
	vae.Encoder
}

func (m withPosterior) Posterior(scope *model.Scope, b vae.Batch) vae.Gaussian {
	mean := m.Encode(scope, b)
	return vae.Gaussian{Mean: mean, LogVar: graph.ZerosLike(mean)}
}

func TestEvaluateKLPerDimension(t *testing.T) {
	db := openDB(t)
	id := trainTinyRun(t, db, "vae")
	tr, err := Load(db, id)
	if err != nil {
		t.Fatal(err)
	}
	tr.Model = withPosterior{tr.Model.(encodingModel)}
	ex, err := tr.Examples("test", 50)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := tr.klPerDim(ex, map[string]string{"n": "50"})
	if err != nil {
		t.Fatal(err)
	}
	codes, err := tr.Encode(ex)
	if err != nil {
		t.Fatal(err)
	}
	m := rowsMatrix(codes)
	n, d := m.Dims()
	want := make([]float64, d)
	for i := range n {
		for j := range d {
			want[j] += 0.5 * m.At(i, j) * m.At(i, j) / float64(n) // ½μ² with σ = 1
		}
	}
	if len(vals) != d+1 || vals[0].Name != "kl" || vals[1].Name != "kl_dim/0" {
		t.Fatalf("%d values, first %+v", len(vals), vals[0])
	}
	var total float64
	for j := range d {
		total += want[j]
		if math.Abs(vals[j+1].Value-want[j]) > 1e-5*(1+want[j]) {
			t.Errorf("kl_dim/%d = %v, want %v", j, vals[j+1].Value, want[j])
		}
	}
	if math.Abs(vals[0].Value-total) > 1e-4*(1+total) {
		t.Errorf("kl = %v, want %v", vals[0].Value, total)
	}
}

// TestSampleQualityAtEnd computes the end-of-training figures the run driver
// records, with the real classifier (trained and cached on first use), and
// records them as the driver would.
func TestSampleQualityAtEnd(t *testing.T) {
	db := openDB(t)
	id := trainTinyRun(t, db, "vae")
	tr, err := Load(db, id)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := SampleQualityAtEnd(tr.Backend, tr.Store, tr.Model, tr.Data.Classes, 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Key != "eval/fid" || rows[1].Key != "eval/is" {
		t.Fatalf("rows %+v", rows)
	}
	if !strings.HasPrefix(rows[0].Describe, eval.FIDVersion+" ") || !strings.Contains(rows[0].Describe, "n=200") || rows[0].Value <= 0 {
		t.Errorf("fid row %+v", rows[0])
	}
	if rows[1].Value < 1 || rows[1].Value > 10 {
		t.Errorf("IS %v outside [1, 10]", rows[1].Value)
	}
	if _, err := db.RecordEvaluations(id, 5, rows); err != nil {
		t.Fatal(err)
	}
}

// TestEvaluateDisentanglement scores a briefly trained β-VAE on shapes-32's
// ground-truth factors: every disentanglement figure is recorded with its
// version, in its range; MNIST, which has no factors, is refused before any work.
func TestEvaluateDisentanglement(t *testing.T) {
	db := openDB(t)
	spec := tinySpec(20)
	spec.Family = "beta-vae"
	spec.Data.Name = "shapes-32"
	spec.Params = map[string]any{"latent_dim": 6, "hidden": "64"}
	res, err := Run(context.Background(), spec, Options{DB: db, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	small := eval.DisentanglementOptions{Train: 300, Eval: 150, BatchSize: 8, VarianceEstimate: 300, Seed: 1}
	values, _, err := Evaluate(db, res.RunID, EvalOptions{Metrics: DisentanglementMetrics, Disentanglement: small})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, v := range values {
		got[v.Name] = v.Value
		if v.Version == "" || v.Settings["data"] != "shapes-32" {
			t.Errorf("%s: version %q, settings %v", v.Name, v.Version, v.Settings)
		}
	}
	for _, name := range []string{"betavae", "factorvae", "mig", "sap", "dci_disentanglement", "dci_completeness", "dci_informativeness"} {
		v, ok := got[name]
		if !ok || v < 0 || v > 1 {
			t.Errorf("%s = %v (recorded: %v), want a score in [0, 1]", name, v, ok)
		}
	}
	mnist := trainTinyRun(t, db, "vae")
	if _, _, err := Evaluate(db, mnist, EvalOptions{Metrics: []string{"mig"}, Disentanglement: small}); !errors.Is(err, ErrCapability) || !strings.Contains(err.Error(), "ground-truth factors") {
		t.Errorf("mig on mnist: %v, want a capability error about ground-truth factors", err)
	}
}
