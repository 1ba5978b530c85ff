package tracker

import (
	"bytes"
	"errors"
	"testing"
)

func TestAddArtifact(t *testing.T) {
	db, _ := openTemp(t)
	rec, err := db.StartRun(RunInfo{Experiment: "e", Family: "vae", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for s := range int64(7) {
		rec.LogMetric("train/loss", s, 100-float64(s))
	}
	if err := rec.LogArtifact("samples.png", 6, "image/png", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	id := rec.RunID()
	if _, err := db.RecordEvaluations(id, 9, []Evaluation{{Key: "eval/x", Value: 1, Describe: "x/v1"}}); err != nil {
		t.Fatal(err)
	}
	step, err := db.AddArtifact(id, "traversals.png", -1, "image/png", []byte("new picture"))
	if err != nil {
		t.Fatal(err)
	}
	if step != 6 {
		t.Errorf("step %d, want the run's last training step 6 (not the evaluation's 9)", step)
	}
	data, info, err := db.Artifact(id, "traversals.png")
	if err != nil || !bytes.Equal(data, []byte("new picture")) || info.Step != 6 || info.MIME != "image/png" {
		t.Fatalf("read back %q %+v %v", data, info, err)
	}
	// Again at the same step: replaced, not added; other artifacts untouched.
	if _, err := db.AddArtifact(id, "traversals.png", 6, "image/png", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	as, err := db.Artifacts(id)
	if err != nil || len(as) != 2 {
		t.Fatalf("artifacts %+v, %v; want samples.png and traversals.png", as, err)
	}
	if old, _, _ := db.Artifact(id, "samples.png"); !bytes.Equal(old, []byte("old")) {
		t.Errorf("samples.png changed to %q", old)
	}
	if _, err := db.AddArtifact(id+1, "x.png", -1, "image/png", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing run: %v, want ErrNotFound", err)
	}
	if _, err := db.AddArtifact(id, "", -1, "image/png", nil); err == nil {
		t.Error("an artifact without a name was stored")
	}
}
