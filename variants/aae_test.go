package variants_test

import (
	"math"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/variants"
)

func TestAAEOutputs(t *testing.T) {
	requireOutputs(t, "aae", nil, 8)
	requireOutputs(t, "aae", map[string]any{"encoder": "gaussian"}, 8)
}

func TestAAETermsFinite(t *testing.T) {
	for _, enc := range []string{"deterministic", "gaussian"} {
		got := lossOnBatch(t, "aae", map[string]any{"encoder": enc, "adv_weight": 3}, 1, 64)
		want := got["recon"] + 3*got["gen"]
		if math.Abs(got["total"]-want) > 1e-4*want {
			t.Errorf("%s: total %.4f != recon + 3·gen = %.4f (%v)", enc, got["total"], want, got)
		}
		if _, ok := got["nelbo"]; ok {
			t.Errorf("%s: an AAE has no ELBO, but reports nelbo", enc)
		}
		// Untrained, the discriminator's logits are near 0: both cross-entropies ≈ log 2.
		for _, k := range []string{"gen", "disc"} {
			if math.Abs(got[k]-math.Log(2)) > 0.1 {
				t.Errorf("%s: untrained %s = %.4f, want ≈ log 2", enc, k, got[k])
			}
		}
		if got["disc_acc"] < 0 || got["disc_acc"] > 1 || got["recon"] < 400 || got["recon"] > 700 {
			t.Errorf("%s: untrained terms out of range: %v", enc, got)
		}
	}
}

func TestAAEDiscriminatorGradients(t *testing.T) {
	requireDiscGradients(t, "aae", nil)
}

// TestAAEObjectivesSeparate trains one real step through the run driver:
// the discriminator's Adam moves only the discriminator, the main Adam
// (reconstruction + generator) everything else.
func TestAAEObjectivesSeparate(t *testing.T) {
	requireAuxSeparation(t, "aae", nil, "disc_lr", "discriminator")
}

func TestAAETrainingLossFalls(t *testing.T) {
	res, db := trainBriefly(t, "aae", nil)
	requireLossFalls(t, db, res.RunID, "train/loss", 100)
	if v := res.Metrics["test/recon"]; !(v > 30 && v < 250) {
		t.Errorf("test/recon = %v after 2 small epochs", v)
	}
}

func TestAAERejectsBadHyperparameters(t *testing.T) {
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"encoder": "vq"}, `encoder="vq"`},
		{map[string]any{"adv_weight": -2}, "adv_weight=-2"},
		{map[string]any{"disc_lr": -1}, "disc_lr=-1"},
		{map[string]any{"disc_beta2": 1.5}, "disc_beta2=1.5"},
		{map[string]any{"disc_hidden": "0"}, "disc_hidden=[0]"},
		{map[string]any{"likelihood": "poisson"}, `likelihood="poisson"`},
	} {
		_, _, err := variants.New("aae", tc.params, mnistData)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("params %v: error %v, want one naming %q", tc.params, err, tc.want)
		}
	}
}

func TestAAELong(t *testing.T) {
	trainFull(t, "aae", nil, 5, nil)
}
