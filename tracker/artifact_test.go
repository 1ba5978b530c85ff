package tracker

import (
	"errors"
	"strings"
	"testing"
)

// TestArtifactAt reads each recorded step of an artifact back, and names the
// recorded steps when asked for another.
func TestArtifactAt(t *testing.T) {
	db, _ := openTemp(t)
	rec, err := db.StartRun(RunInfo{Experiment: "e", Name: "grids", Family: "dcgan"})
	if err != nil {
		t.Fatal(err)
	}
	id := rec.RunID()
	for _, step := range []int64{0, 468, 936} {
		if err := rec.LogArtifact("samples.png", step, "image/png", []byte{byte(step % 251), byte(step / 251)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.LogArtifact("other.png", 5, "image/png", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	for _, step := range []int64{0, 468, 936} {
		data, info, err := db.ArtifactAt(id, "samples.png", step)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if info.Step != step || len(data) != 2 || data[0] != byte(step%251) || data[1] != byte(step/251) {
			t.Errorf("step %d: got %v at step %d", step, data, info.Step)
		}
	}
	latest, info, err := db.Artifact(id, "samples.png")
	if err != nil || info.Step != 936 || latest[0] != byte(936%251) {
		t.Errorf("Artifact (highest step) = %v at %d, %v", latest, info.Step, err)
	}
	for _, c := range []struct {
		name string
		step int64
		want string
	}{
		{"samples.png", 100, "at steps 0, 468, 936"},
		{"missing.png", 0, `it has: "other.png", "samples.png"`},
		{"samples.png", -1, "steps are >= 0"},
	} {
		_, _, err := db.ArtifactAt(id, c.name, c.step)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ArtifactAt(%q, %d) = %v, want an error containing %q", c.name, c.step, err, c.want)
		}
		if c.step >= 0 && !errors.Is(err, ErrNotFound) {
			t.Errorf("ArtifactAt(%q, %d): %v does not wrap ErrNotFound", c.name, c.step, err)
		}
	}
	if _, _, err := db.ArtifactAt(id+1, "samples.png", 0); err == nil {
		t.Error("ArtifactAt of a missing run: no error")
	}
}
