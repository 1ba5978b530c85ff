package experiments

import (
	"context"
	"math"
	"testing"

	"github.com/vaexp/vaexp/tracker"
)

// trainedTiny trains a few steps and loads the result.
func trainedTiny(t *testing.T, family string) (*Trained, Result) {
	t.Helper()
	db := openDB(t)
	spec := tinySpec(5)
	spec.Family = family
	spec.Data.TestLimit = 30
	spec.Eval.BatchSize = 8 // 30 test examples: 3 full batches and a padded one
	return trainAndLoad(t, db, spec)
}

func TestTrainedEvaluateMatchesRecordedTest(t *testing.T) {
	tr, res := trainedTiny(t, "vae")
	got, err := tr.Evaluate("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"loss", "recon", "kl", "nelbo"} {
		if want := res.Metrics["test/"+k]; math.Abs(got[k]-want) > 1e-4*math.Abs(want) {
			t.Errorf("%s = %v, the run recorded %v", k, got[k], want)
		}
	}
	if _, err := tr.Evaluate("val", 0); err == nil {
		t.Error("val split of a run without one: no error")
	}
	if _, err := tr.Examples("nope", 3); err == nil {
		t.Error("split nope: no error")
	}
}

func TestTrainedEncodeDecodeReconstruct(t *testing.T) {
	for _, family := range []string{"vae", "cvae", "ae"} {
		t.Run(family, func(t *testing.T) {
			tr, _ := trainedTiny(t, family)
			ex, err := tr.Examples("test", 0)
			if err != nil {
				t.Fatal(err)
			}
			if ex.Len() != 30 || len(ex.Labels) != 30 || len(ex.Images[0]) != 784 {
				t.Fatalf("examples: %d images, %d labels, %d pixels", ex.Len(), len(ex.Labels), len(ex.Images[0]))
			}
			codes, err := tr.Encode(ex)
			if err != nil {
				t.Fatal(err)
			}
			if len(codes) != 30 || len(codes[0]) != 20 {
				t.Fatalf("codes: %d × %d, want 30 × 20", len(codes), len(codes[0]))
			}
			// Padding must not change a batch's results: encode example 29 alone.
			last, err := tr.Encode(Examples{Images: ex.Images[29:], Labels: ex.Labels[29:]})
			if err != nil {
				t.Fatal(err)
			}
			for j := range last[0] {
				if math.Abs(float64(last[0][j]-codes[29][j])) > 1e-5 {
					t.Fatalf("code of example 29 alone %v, in the padded batch %v", last[0], codes[29])
				}
			}
			recons, err := tr.Reconstruct(ex)
			if err != nil {
				t.Fatal(err)
			}
			if !tr.CanDecode() {
				t.Fatal("no Decode")
			}
			// These families reconstruct by decoding the code: Decode∘Encode = Reconstruct.
			decoded, err := tr.Decode(codes, ex.Labels)
			if err != nil {
				t.Fatal(err)
			}
			for i := range recons {
				for j := range recons[i] {
					if math.Abs(float64(decoded[i][j]-recons[i][j])) > 1e-5 {
						t.Fatalf("example %d pixel %d: decoded code %v, reconstruction %v", i, j, decoded[i][j], recons[i][j])
					}
				}
			}
		})
	}
}

// trainAndLoad runs spec to its end, recorded in db, and loads the trained run.
func trainAndLoad(t *testing.T, db *tracker.DB, spec Spec) (*Trained, Result) {
	t.Helper()
	res, err := Run(context.Background(), spec, Options{DB: db, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Load(db, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	return tr, res
}
