package experiments

import (
	"bytes"
	"context"
	"image/gif"
	"image/png"
	"math"
	"testing"
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
