package experiments

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vaexp/vaexp/tracker"
)

// quickSpec is a small real MNIST run for tests.
func quickSpec() Spec {
	s := DefaultSpec()
	s.Data.Limit = 2048
	s.Data.TestLimit = 500
	s.Train.Epochs = 2
	s.Train.BatchSize = 64
	s.Eval.Samples = 16
	return s
}

func openDB(t testing.TB) *tracker.DB {
	t.Helper()
	db, err := tracker.Open(filepath.Join(t.TempDir(), "vaexp.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestRunRecordsTermsAndArtifacts(t *testing.T) {
	db := openDB(t)
	out := t.TempDir()
	res, err := Run(context.Background(), quickSpec(), Options{DB: db, OutDir: out, Log: os.Stderr, Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "finished" {
		t.Fatalf("status %q", res.Status)
	}
	t.Logf("result: %+v", res)
	run, err := db.Run(res.RunID)
	if err != nil || run.Status != "finished" {
		t.Fatalf("tracked run: %+v, %v", run, err)
	}
	for _, key := range []string{"train/recon", "train/kl", "train/loss", "train/nelbo"} {
		h, err := db.MetricHistory(res.RunID, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != res.Steps {
			t.Errorf("%s: %d points, want one per step (%d)", key, len(h), res.Steps)
		}
	}
	first, _ := db.MetricHistory(res.RunID, "train/loss")
	if !(first[len(first)-1].Value < first[0].Value-100) {
		t.Errorf("train loss did not fall: first %.1f last %.1f", first[0].Value, first[len(first)-1].Value)
	}
	if v := res.Metrics["test/nelbo"]; !(v > 50 && v < 250) {
		t.Errorf("test/nelbo = %v, want a plausible value after 2 small epochs", v)
	}
	png, info, err := db.Artifact(res.RunID, "samples.png")
	if err != nil || info.MIME != "image/png" || len(png) < 100 || string(png[1:4]) != "PNG" {
		t.Fatalf("samples artifact: %v %+v (%d bytes)", err, info, len(png))
	}
}
