package variants_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/variants"
)

func TestDenoisingVAEOutputs(t *testing.T) {
	requireOutputs(t, "denoising-vae", nil, 16)
}

// TestDenoisingVAEKnownValues: outside training the inputs are clean, so the
// loss is exactly the standard VAE's on the same batch and seed, whatever the
// corruption; in training it is too when the corruption rate is 0, and it
// differs (the encoder sees corrupted inputs) when the rate is not.
func TestDenoisingVAEKnownValues(t *testing.T) {
	const seed, n = 11, 64
	ref := lossOnBatch(t, "vae", nil, seed, n)
	refTrain := trainingLossOnBatch(t, "vae", nil, seed, n)
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-5*math.Max(1, math.Abs(b)) }
	for _, c := range variants.Corruptions {
		params := map[string]any{"corruption": c, "corruption_rate": 0.5}
		got := lossOnBatch(t, "denoising-vae", params, seed, n)
		for _, k := range []string{"recon", "kl", "total", "nelbo"} {
			if !near(got[k], ref[k]) {
				t.Errorf("%s, evaluation: %s = %.5f, the VAE's = %.5f", c, k, got[k], ref[k])
			}
		}
		noisy := trainingLossOnBatch(t, "denoising-vae", params, seed, n)
		if near(noisy["recon"], refTrain["recon"]) {
			t.Errorf("%s, training: recon %.5f equals the clean VAE's: the input was not corrupted", c, noisy["recon"])
		}
		params["corruption_rate"] = 0
		clean := trainingLossOnBatch(t, "denoising-vae", params, seed, n)
		if !near(clean["total"], refTrain["total"]) {
			t.Errorf("%s, training at rate 0: total %.5f, the VAE's %.5f", c, clean["total"], refTrain["total"])
		}
	}
}

// TestDenoisingVAECorruption checks each corruption's statistics on 256
// MNIST digits (200 704 pixels): mask zeroes a fraction rate of the pixels,
// salt_pepper sets a fraction rate to 0 or 1 in equal parts, gaussian adds
// noise of mean 0 and std rate.
func TestDenoisingVAECorruption(t *testing.T) {
	x, _ := mnistBatch(t, 256)
	clean := tensors.MustCopyFlatData[float32](x)
	corrupt := func(kind string, rate float64) []float32 {
		m, _, err := variants.New("denoising-vae", map[string]any{"corruption": kind, "corruption_rate": rate}, mnistData)
		if err != nil {
			t.Fatal(err)
		}
		store := model.NewStore()
		if err := store.SetRNGStateFromSeed(5); err != nil {
			t.Fatal(err)
		}
		out, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			return m.(*variants.DenoisingVAE).Corrupt(scope, x)
		}, x)
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float32](out)
	}
	const tol = 0.01 // the std of a fraction over 2·10⁵ pixels is ~0.001

	// mask: among the lit pixels (x > 0), a fraction rate becomes 0; nothing else changes.
	noisy := corrupt("mask", 0.3)
	lit, zeroed := 0, 0
	for i, v := range clean {
		if noisy[i] != v && noisy[i] != 0 {
			t.Fatalf("mask changed pixel %d from %v to %v", i, v, noisy[i])
		}
		if v > 0 {
			lit++
			if noisy[i] == 0 {
				zeroed++
			}
		}
	}
	if f := float64(zeroed) / float64(lit); math.Abs(f-0.3) > tol {
		t.Errorf("mask 0.3 zeroed %.4f of the lit pixels", f)
	}

	// salt_pepper: grey pixels (strictly between 0 and 1) are hit with
	// probability rate and become 0 or 1 in equal parts.
	noisy = corrupt("salt_pepper", 0.2)
	grey, salt, pepper := 0, 0, 0
	for i, v := range clean {
		if noisy[i] != v && noisy[i] != 0 && noisy[i] != 1 {
			t.Fatalf("salt_pepper set pixel %d to %v", i, noisy[i])
		}
		if v > 0 && v < 1 {
			grey++
			switch noisy[i] {
			case 1:
				salt++
			case 0:
				pepper++
			}
		}
	}
	if f := float64(salt+pepper) / float64(grey); math.Abs(f-0.2) > tol {
		t.Errorf("salt_pepper 0.2 hit %.4f of the grey pixels", f)
	}
	if f := float64(salt) / float64(salt+pepper); math.Abs(f-0.5) > 0.03 {
		t.Errorf("salt_pepper: %.3f of the hits are salt, want 0.5", f)
	}

	// gaussian: x̃ − x has mean 0 and std rate, and is not clipped.
	noisy = corrupt("gaussian", 0.5)
	var sum, sumSq float64
	for i, v := range clean {
		d := float64(noisy[i] - v)
		sum += d
		sumSq += d * d
	}
	mean := sum / float64(len(clean))
	std := math.Sqrt(sumSq/float64(len(clean)) - mean*mean)
	if math.Abs(mean) > tol || math.Abs(std-0.5) > tol {
		t.Errorf("gaussian 0.5: noise mean %.4f, std %.4f", mean, std)
	}
}

// TestDenoisingVAETraining trains briefly: the loss falls and the corruption
// is recorded with the run's parameters.
func TestDenoisingVAETraining(t *testing.T) {
	res, db := trainBriefly(t, "denoising-vae", map[string]any{"corruption": "mask", "corruption_rate": 0.25})
	requireLossFalls(t, db, res.RunID, "train/loss", 100)
	ps, err := db.Params(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, p := range ps {
		got[p.Key] = p.Value
	}
	if got["corruption"] != "mask" || got["corruption_rate"] != 0.25 {
		t.Errorf("recorded corruption %v (%T), rate %v (%T); want mask, 0.25", got["corruption"], got["corruption"], got["corruption_rate"], got["corruption_rate"])
	}
}

// TestDenoisingVAERejectsBadParams: a bad corruption fails before training,
// with nothing recorded.
func TestDenoisingVAERejectsBadParams(t *testing.T) {
	for _, bad := range []map[string]any{
		{"corruption": "blur"}, {"corruption_rate": 1.5}, {"corruption_rate": -0.1}, {"corruption": "mask", "corruption_rate": "NaN"},
	} {
		if _, _, err := variants.New("denoising-vae", bad, mnistData); err == nil {
			t.Errorf("params %v accepted", bad)
		} else {
			t.Logf("%v: %v", bad, err)
		}
	}
	db := openTestDB(t)
	spec := experiments.DefaultSpec()
	spec.Family = "denoising-vae"
	spec.Params = map[string]any{"corruption": "blur"}
	_, err := experiments.Run(context.Background(), spec, experiments.Options{DB: db, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `corruption="blur"`) {
		t.Errorf("run with corruption=blur: error %v", err)
	}
	if runs, err := db.ListRuns(); err != nil || len(runs) != 0 {
		t.Errorf("a rejected spec recorded %d runs (%v)", len(runs), err)
	}
}

// TestDenoisingVAELong is the family's measurement: full MNIST, the
// reference MLP, 5 epochs (VAEXP_LONG=1; VAEXP_EPOCHS overrides), with the
// default salt-and-pepper corruption; test metrics are on clean inputs.
//
//	VAEXP_LONG=1 go test -run TestDenoisingVAELong -timeout 60m -v ./variants/
func TestDenoisingVAELong(t *testing.T) {
	trainFull(t, "denoising-vae", nil, 5, nil)
}
