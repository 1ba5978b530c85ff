package sweep

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vaexp/vaexp/tracker"
)

// TestPlot draws a β sweep whose trials record runs with KL and
// reconstruction terms (written directly, no training): every figure is
// written and is a PNG.
func TestPlot(t *testing.T) {
	db, err := tracker.Open(filepath.Join(t.TempDir(), "vaexp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := mustParse(t, "name: b\nmodel: beta-vae\nmethod: grid\nspace: {beta: [0.5, 1, 4]}\nseeds: 2\n")
	run := func(ctx context.Context, db *tracker.DB, spec *Spec, tr tracker.Trial, o WorkerOptions) tracker.TrialResult {
		var p map[string]float64
		json.Unmarshal([]byte(tr.Config), &p)
		rec, err := db.StartRun(tracker.RunInfo{Sweep: spec.Name, Name: "t"})
		if err != nil {
			return tracker.TrialResult{State: tracker.TrialFailed, Error: err.Error()}
		}
		kl, recon := 20/p["beta"]+float64(tr.Seed), 130+10*p["beta"]
		rec.LogMetrics(10, map[string]float64{"test/kl": kl, "test/recon": recon, "test/nelbo": kl + recon})
		rec.Finish(tracker.StatusFinished, nil)
		db.LinkTrialRun(tr.SweepID, tr.Index, rec.RunID())
		return tracker.TrialResult{State: tracker.TrialFinished, Value: kl + recon, Step: 10}
	}
	res, err := Start(context.Background(), spec, Options{DB: db, OutDir: t.TempDir(), Workers: 2, Log: io.Discard, Poll: time.Millisecond, runTrial: run})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "plots")
	files, err := Plot(db, res.SweepID, dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
		b, err := os.ReadFile(f)
		if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
			t.Errorf("%s: %d bytes, %v", f, len(b), err)
		}
	}
	if want := []string{"metric-vs-beta.png", "parallel.png", "rate-distortion.png"}; !slices.Equal(names, want) {
		t.Errorf("wrote %v, want %v", names, want)
	}
}
