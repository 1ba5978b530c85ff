package experiments

import (
	"bytes"
	"context"
	"fmt"
	"image/gif"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/variants"
)

// TestSequenceRunRecordsArtifacts trains sequence families briefly through
// Run and checks what the driver records of sequence data, chosen by the
// data's shape and the family's capabilities: strips and GIFs of samples,
// reconstructions and continuations for image sequences; sample and
// reconstruction panels, forecasts with their errors against both
// baselines, and the shock AUROC for series; and that `samples` draws a
// run's sequences in either format.
func TestSequenceRunRecordsArtifacts(t *testing.T) {
	small := map[string]any{"latent_dim": 4, "state": 16, "features": 16, "hidden": 32}
	for _, c := range []struct {
		family, data string
		artifacts    []string
		metrics      []string
		formats      []string
	}{
		{"vrnn", "moving-mnist-1",
			[]string{"samples.png", "samples.gif", "reconstructions.png", "reconstructions.gif", "continuations.png", "continuations.gif"},
			nil, []string{".png", ".gif"}},
		{"vrnn", "regimes",
			[]string{"samples.png", "reconstructions.png", "forecasts.png"},
			[]string{"test/forecast_mae", "test/forecast_rmse", "test/forecast_naive_mae", "test/forecast_naive_rmse",
				"test/forecast_seasonal_mae", "test/forecast_seasonal_rmse", "test/forecast_coverage", "test/shock_auroc"},
			[]string{".png", ".svg"}},
		{"seq-vae", "sines",
			[]string{"samples.png", "reconstructions.png", "forecasts.png"},
			[]string{"test/forecast_mae", "test/forecast_seasonal_mae"}, nil},
	} {
		t.Run(c.family+"/"+c.data, func(t *testing.T) {
			db := openDB(t)
			spec := DefaultSpec()
			spec.Family, spec.Params = c.family, small
			spec.Data.Name, spec.Data.Limit, spec.Data.TestLimit = c.data, 256, 24
			spec.Train.Steps, spec.Train.BatchSize = 16, 32
			spec.Eval.BatchSize, spec.Eval.Samples = 24, 4
			res, err := Run(context.Background(), spec, Options{DB: db, OutDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range c.artifacts {
				raw, info, err := db.Artifact(res.RunID, name)
				if err != nil {
					t.Errorf("artifact %s: %v", name, err)
					continue
				}
				decodeImage(t, name, info.MIME, raw)
			}
			for _, k := range c.metrics {
				if v, ok := res.Metrics[k]; !ok || math.IsNaN(v) || v < 0 {
					t.Errorf("%s = %v (recorded %v)", k, v, ok)
				}
			}
			if auc, ok := res.Metrics["test/shock_auroc"]; ok && (auc < 0 || auc > 1) {
				t.Errorf("test/shock_auroc = %v, outside [0, 1]", auc)
			}
			tr, err := Load(db, res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range c.formats {
				raw, err := tr.DrawSamples(3, 8, "samples"+f)
				if err != nil || len(raw) == 0 {
					t.Errorf("DrawSamples %s: %d bytes, %v", f, len(raw), err)
				}
			}
			if _, err := tr.DrawSamples(3, 8, "samples.jpg"); err == nil {
				t.Error("DrawSamples .jpg accepted")
			}
		})
	}
}

// decodeImage checks that raw decodes as the image its MIME type says.
func decodeImage(t *testing.T, name, mime string, raw []byte) {
	t.Helper()
	var err error
	switch mime {
	case "image/png":
		_, err = png.Decode(bytes.NewReader(raw))
	case "image/gif":
		var g *gif.GIF
		if g, err = gif.DecodeAll(bytes.NewReader(raw)); err == nil && len(g.Image) < 2 {
			t.Errorf("%s: a GIF of %d frames", name, len(g.Image))
		}
	default:
		t.Errorf("%s: MIME %q", name, mime)
		return
	}
	if err != nil {
		t.Errorf("%s (%s): %v", name, mime, err)
	}
}

// TestSeqVAEContentSwapLong trains seq-vae on the 1-digit Moving MNIST and
// measures content swaps against the ground truth: the swapped sequences
// must be closer to A's digit on B's path than to B (the content moved with
// f) and than to A (the motion stayed with z_{1:T}), for most pairs. Minutes
// long on 2 cores (VAEXP_STEPS overrides the 3000 steps, VAEXP_SET="k=v;k=v"
// sets hyperparameters):
//
//	VAEXP_LONG=1 go test -run TestSeqVAEContentSwapLong -timeout 60m -v ./experiments/
func TestSeqVAEContentSwapLong(t *testing.T) {
	if os.Getenv("VAEXP_LONG") == "" {
		t.Skip("long training; set VAEXP_LONG=1")
	}
	steps := 3000
	if s := os.Getenv("VAEXP_STEPS"); s != "" {
		if _, err := fmt.Sscan(s, &steps); err != nil {
			t.Fatalf("VAEXP_STEPS=%q: %v", s, err)
		}
	}
	db := openDB(t)
	spec := DefaultSpec()
	spec.Family, spec.Data.Name = "seq-vae", "moving-mnist-1"
	spec.Params = map[string]any{}
	for _, kv := range strings.FieldsFunc(os.Getenv("VAEXP_SET"), func(r rune) bool { return r == ';' }) {
		k, v, _ := strings.Cut(kv, "=")
		spec.Params[strings.TrimSpace(k)] = v
	}
	spec.Data.TestLimit = 1000
	spec.Train.Steps, spec.Train.BatchSize = steps, 32
	spec.Eval.Samples = 0
	tr, res := trainAndLoad(t, db, spec)
	cfg, err := spec.Validate()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tr.MeasureSwaps(200, int(variants.Values(cfg)["content_dim"].(int64)), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v: %d steps, test NELBO %.1f (recon %.1f, kl_f %.1f, kl_z %.1f); %d swaps: correlation with the target %.3f, with B %.3f, with A %.3f; closer to the target than to B %.0f%%, than to A %.0f%%; transfer %.3f",
		spec.Params, res.Steps, res.Metrics["test/nelbo"], res.Metrics["test/recon"], res.Metrics["test/kl_f"], res.Metrics["test/kl_z"],
		rep.Pairs, rep.Target, rep.WithB, rep.WithA, 100*rep.ContentMoved, 100*rep.MotionKept, rep.Transfer)
	if rep.ContentMoved < 0.5 || rep.MotionKept < 0.5 {
		t.Errorf("swaps closer to the target than to B in %.0f%% of pairs, than to A in %.0f%%: want both above half", 100*rep.ContentMoved, 100*rep.MotionKept)
	}
}

// TestMeasureSwapsMechanics runs the swap measurement on a barely trained
// seq-vae: every figure is a correlation in [−1, 1], the shown pairs are
// kept, the figures become tracker rows, and a content length outside the
// codes is refused.
func TestMeasureSwapsMechanics(t *testing.T) {
	db := openDB(t)
	spec := DefaultSpec()
	spec.Family, spec.Params = "seq-vae", map[string]any{"state": 16, "features": 16, "hidden": 32, "content_dim": 8}
	spec.Data.Name, spec.Data.Limit, spec.Data.TestLimit = "moving-mnist-1", 64, 40
	spec.Train.Steps, spec.Train.BatchSize = 2, 32
	spec.Eval.BatchSize, spec.Eval.Samples = 40, 0
	tr, _ := trainAndLoad(t, db, spec)
	rep, err := tr.MeasureSwaps(5, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pairs != 5 || len(rep.A) != 2 || len(rep.Swapped) != 2 || len(rep.Targets) != 2 || rep.ContentDim != 8 {
		t.Errorf("report: %d pairs, %d shown, content_dim %d; want 5, 2, 8", rep.Pairs, len(rep.A), rep.ContentDim)
	}
	for name, v := range map[string]float64{"target": rep.Target, "with B": rep.WithB, "with A": rep.WithA, "transfer": rep.Transfer} {
		if math.IsNaN(v) || v < -1 || v > 1 {
			t.Errorf("correlation %s = %v", name, v)
		}
	}
	if rows := rep.Evaluations(); len(rows) != 6 || !strings.HasPrefix(rows[0].Describe, SwapVersion) {
		t.Errorf("evaluations: %+v", rows)
	}
	if _, err := tr.MeasureSwaps(5, 100, 0); err == nil {
		t.Error("content_dim as long as the whole code accepted")
	}
}
