package notebooks

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/tracker"
)

// recordRuns records runs whose metric key follows values[run][step index]
// at steps 1..n, and returns their ids.
func recordRuns(t *testing.T, db *tracker.DB, key string, values [][]float64) []int64 {
	t.Helper()
	var ids []int64
	for _, vs := range values {
		rec, err := db.StartRun(tracker.RunInfo{Experiment: "e", Name: "r", Family: "dcgan"})
		if err != nil {
			t.Fatal(err)
		}
		for s, v := range vs {
			rec.LogMetric(key, int64(s+1), v)
		}
		if err := rec.Finish(tracker.StatusFinished, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.RunID())
	}
	return ids
}

func TestSeedBand(t *testing.T) {
	db, err := tracker.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Three seeds, eight steps: run k has value step + k (k = 0, 1, 2), so the
	// mean is step + 1 and the standard deviation 1 at every step.
	var values [][]float64
	for k := range 3 {
		var vs []float64
		for s := 1; s <= 8; s++ {
			vs = append(vs, float64(s+k))
		}
		values = append(values, vs)
	}
	ids := recordRuns(t, db, "train/gen", values)
	b, err := SeedBand(db, "gen", ids, "train/gen", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.X) != 8 || b.Name != "gen" {
		t.Fatalf("band has %d points named %q, want 8 named gen", len(b.X), b.Name)
	}
	for i := range b.X {
		if b.X[i] != float64(i+1) || math.Abs(b.Mean[i]-float64(i+2)) > 1e-12 ||
			math.Abs(b.Lo[i]-float64(i+1)) > 1e-12 || math.Abs(b.Hi[i]-float64(i+3)) > 1e-12 {
			t.Errorf("point %d: x %g mean %g [%g, %g], want x %d mean %d [%d, %d]", i, b.X[i], b.Mean[i], b.Lo[i], b.Hi[i], i+1, i+2, i+1, i+3)
		}
	}
	// Two bins of four steps: mean steps 2.5 and 6.5, means 3.5 and 7.5, std still 1.
	b, err = SeedBand(db, "gen", ids, "train/gen", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.X) != 2 || b.X[0] != 2.5 || b.X[1] != 6.5 || math.Abs(b.Mean[0]-3.5) > 1e-12 || math.Abs(b.Hi[1]-8.5) > 1e-12 {
		t.Errorf("binned band = %+v, want x 2.5, 6.5, means 3.5, 7.5 ± 1", b)
	}
	// Only the steps every run has count: a run that stops early shortens the band.
	short := recordRuns(t, db, "train/gen", [][]float64{{1, 2, 3}})
	b, err = SeedBand(db, "gen", append(ids, short...), "train/gen", 0)
	if err != nil || len(b.X) != 3 {
		t.Errorf("with a run of 3 steps: %d points, %v; want 3", len(b.X), err)
	}
	// One run: a band of zero width.
	b, err = SeedBand(db, "one", ids[:1], "train/gen", 0)
	if err != nil || b.Lo[0] != b.Mean[0] || b.Hi[0] != b.Mean[0] {
		t.Errorf("one run: %+v, %v; want Lo = Mean = Hi", b, err)
	}
	if _, err := SeedBand(db, "x", ids, "train/missing", 0); err == nil || !strings.Contains(err.Error(), "no finite value of train/missing") {
		t.Errorf("missing key: %v", err)
	}
	if _, err := SeedBand(db, "x", nil, "train/gen", 0); err == nil {
		t.Error("no runs: no error")
	}
}

func TestStepArtifacts(t *testing.T) {
	db, err := tracker.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, err := db.StartRun(tracker.RunInfo{Experiment: "e", Name: "r", Family: "dcgan"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []int64{936, 468, 1404} {
		if err := rec.LogArtifact("samples.png", s, "image/png", []byte{byte(s / 468)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.LogArtifact("reconstructions.png", 1404, "image/png", []byte{9}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(tracker.StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	steps, data, err := StepArtifacts(db, rec.RunID(), "samples.png")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 3 || steps[0] != 468 || steps[2] != 1404 || data[0][0] != 1 || data[1][0] != 2 || data[2][0] != 3 {
		t.Errorf("steps %v, data %v; want 468, 936, 1404 with their own bytes", steps, data)
	}
	if _, _, err := StepArtifacts(db, rec.RunID(), "missing.png"); err == nil {
		t.Error("missing artifact: no error")
	}
}

func TestLineTraversePathSteps(t *testing.T) {
	line, err := experiments.Line([]float32{0, 2}, []float32{4, 2}, 5)
	if err != nil {
		t.Fatal(err)
	}
	for s, p := range line {
		if p[0] != float32(s) || p[1] != 2 {
			t.Errorf("line point %d = %v, want [%d 2]", s, p, s)
		}
	}
	mean, ratio, err := PathSteps(line)
	if err != nil || mean != 1 || ratio != 1 {
		t.Errorf("even path: mean %g ratio %g (%v), want 1 and 1", mean, ratio, err)
	}
	// All the change in one of four steps: mean 1, largest 4.
	jump := [][]float32{{0}, {0}, {4}, {4}, {4}}
	if mean, ratio, _ := PathSteps(jump); mean != 1 || ratio != 4 {
		t.Errorf("jump: mean %g ratio %g, want 1 and 4", mean, ratio)
	}
	tr, err := experiments.Traverse([]float32{1, 1, 1}, 1, -3, 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr) != 7 || tr[0][1] != -3 || tr[3][1] != 0 || tr[6][1] != 3 || tr[6][0] != 1 || tr[6][2] != 1 {
		t.Errorf("traversal = %v", tr)
	}
	for name, err := range map[string]error{
		"line lengths":   second(experiments.Line([]float32{0}, []float32{0, 1}, 3)),
		"line steps":     second(experiments.Line([]float32{0}, []float32{1}, 1)),
		"traverse dim":   second(experiments.Traverse([]float32{0}, 1, -1, 1, 3)),
		"traverse steps": second(experiments.Traverse([]float32{0}, 0, -1, 1, 1)),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, _, err := PathSteps([][]float32{{0}}); err == nil {
		t.Error("one frame: no error")
	}
}

func second[T any](_ T, err error) error { return err }

// TestClassify runs the cached MNIST classifier (trained on first use) over
// real test digits: it names nearly all of them right, confidently.
func TestClassify(t *testing.T) {
	if testing.Short() {
		t.Skip("loads (or trains) the LeNet classifier")
	}
	backend, err := experiments.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := eval.LoadClassifier(backend, eval.ClassifierOptions{})
	if err != nil {
		t.Fatal(err)
	}
	images, truth, err := eval.MNISTImages("test", 300)
	if err != nil {
		t.Fatal(err)
	}
	labels, conf, err := Classify(c, images)
	if err != nil {
		t.Fatal(err)
	}
	right, sure := 0, 0
	for i, l := range labels {
		if l == truth[i] {
			right++
		}
		if conf[i] < 0.1 || conf[i] > 1+1e-6 {
			t.Fatalf("image %d: confidence %g outside [0.1, 1] (the top of 10 probabilities)", i, conf[i])
		}
		if conf[i] > 0.9 {
			sure++
		}
	}
	if right < 290 || sure < 270 {
		t.Errorf("%d of 300 test digits right, %d with confidence > 0.9; want ≥ 290 and ≥ 270", right, sure)
	}
	shares := ClassShares(labels, 10)
	var total float64
	for _, s := range shares {
		total += s
	}
	if math.Abs(total-1) > 1e-12 || shares[1] < 0.05 {
		t.Errorf("class shares %v: want a sum of 1 and every digit present", shares)
	}
	if got := ClassShares([]int{0, 0, 1, 7}, 2); got[0] != 0.5 || got[1] != 0.25 {
		t.Errorf("ClassShares = %v, want [0.5 0.25] (7 counts in no class)", got)
	}
	if _, _, err := Classify(nil, images); err == nil {
		t.Error("no classifier: no error")
	}
}
