package variants_test

// Tests shared by the two GAN families (gan, dcgan): each is checked the
// same way, on real MNIST, through the same driver users call.

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

var ganFamilies = []string{"gan", "dcgan"}

// narrow shrinks a GAN's networks for tests that train it: what they check
// does not depend on the widths, and dcgan's default ones cost ~16× more.
func narrow(family string) map[string]any {
	if family == "dcgan" {
		return map[string]any{"hidden": "32,16", "disc_hidden": "16,32"}
	}
	return map[string]any{"hidden": "128,256", "disc_hidden": "128,64"}
}

func TestGANOutputs(t *testing.T) {
	for _, f := range ganFamilies {
		requireOutputs(t, f, nil, 8)
		requireOutputs(t, f, map[string]any{"noise": "uniform", "latent_dim": 7}, 8)
		m, _, err := variants.New(f, nil, mnistData)
		if err != nil {
			t.Fatal(err)
		}
		enc, rec, ll, dec := is[vae.Encoder](m), is[vae.Reconstructor](m), is[vae.LikelihoodEstimator](m), is[vae.Decoder](m)
		if enc || rec || ll || !dec {
			t.Errorf("%s: capabilities encoder=%v reconstructor=%v likelihood=%v decoder=%v: a GAN decodes noise and nothing else", f, enc, rec, ll, dec)
		}
	}
}

// is reports whether m offers the capability T.
func is[T any](m vae.Model) bool { _, ok := m.(T); return ok }

// TestGANTermsFinite checks the recorded terms of an untrained GAN, in
// evaluation and in training mode (batch statistics for dcgan): the total
// is the generator's loss alone, there is no NELBO, and the untrained
// discriminator hardly discriminates: both cross-entropies are near log 2
// and both D(x) and D(G(z)) near 1/2.
func TestGANTermsFinite(t *testing.T) {
	for _, f := range ganFamilies {
		for _, training := range []bool{false, true} {
			var got map[string]float64
			if training {
				got = trainingLossOnBatch(t, f, nil, 1, 64)
			} else {
				got = lossOnBatch(t, f, nil, 1, 64)
			}
			for _, k := range []string{"gen", "disc", "d_real", "d_fake", "disc_acc", "fake_spread"} {
				if _, ok := got[k]; !ok {
					t.Errorf("%s: term %s missing (%v)", f, k, got)
				}
			}
			if math.Abs(got["total"]-got["gen"]) > 1e-5 {
				t.Errorf("%s training=%v: total %.5f != gen %.5f: the generator's loss is the only weighted term", f, training, got["total"], got["gen"])
			}
			if _, ok := got["nelbo"]; ok {
				t.Errorf("%s: a GAN has no likelihood, but reports nelbo", f)
			}
			// An untrained MLP discriminator's logits are near 0. Dcgan's
			// batch norm rescales its discriminator's features to unit
			// variance, which spreads its logits (std ≈ 0.8 over 6272
			// features with N(0, 0.02²) weights).
			tol := 0.1
			if f == "dcgan" {
				tol = 0.5
			}
			for _, k := range []string{"gen", "disc"} {
				if math.Abs(got[k]-math.Log(2)) > tol {
					t.Errorf("%s training=%v: untrained %s = %.4f, want log 2 ± %g", f, training, k, got[k], tol)
				}
			}
			for _, k := range []string{"d_real", "d_fake"} {
				if math.Abs(got[k]-0.5) > tol/2 {
					t.Errorf("%s training=%v: untrained %s = %.4f, want 0.5 ± %g", f, training, k, got[k], tol/2)
				}
			}
			// An untrained generator's images vary far less than digits do.
			if acc, s := got["disc_acc"], got["fake_spread"]; acc < 0 || acc > 1 || !(s > 0 && s < 1) {
				t.Errorf("%s training=%v: disc_acc %v or fake_spread %v out of range", f, training, acc, s)
			}
		}
	}
}

// TestGANObjectivesSeparate trains one real step through the run driver:
// the discriminator's Adam moves only the discriminator, the generator's
// Adam only the generator.
func TestGANObjectivesSeparate(t *testing.T) {
	for _, f := range ganFamilies {
		requireAuxSeparation(t, f, narrow(f), "disc_lr", "discriminator")
	}
}

// TestGANDecode decodes chosen noise: outside training each image depends
// on its own z only (dcgan's batch norm uses its moving averages, not the
// batch's statistics), so z decoded alone and within a batch agree, and
// different z give different images.
func TestGANDecode(t *testing.T) {
	const latent = 100
	z := make([]float32, 3*latent)
	for i := range z {
		z[i] = float32(math.Sin(float64(i) * 1.7))
	}
	for _, f := range ganFamilies {
		m, _, err := variants.New(f, nil, mnistData)
		if err != nil {
			t.Fatal(err)
		}
		dec := m.(vae.Decoder)
		store := model.NewStore()
		_ = store.SetRNGStateFromSeed(1)
		outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, z *graph.Node) []*graph.Node {
			scope.SetTraining(z.Graph(), false)
			ms := scope.At("model")
			all := dec.Decode(ms, z, nil)
			one := dec.Decode(ms, graph.Slice(z, graph.AxisRange(0, 1)), nil)
			return []*graph.Node{all, one}
		}, tensors.FromFlatDataAndDimensions(z, 3, latent))
		if err != nil {
			t.Fatal(err)
		}
		if d := outs[0].Shape().Dimensions; !slices.Equal(d, []int{3, 28, 28, 1}) {
			t.Fatalf("%s: Decode shape %v, want [3 28 28 1]", f, d)
		}
		all, one := tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
		var same, differ float64
		for i := range one {
			same = math.Max(same, math.Abs(float64(all[i]-one[i])))
			differ += math.Abs(float64(all[i] - all[784+i]))
		}
		if same > 1e-5 {
			t.Errorf("%s: z decoded alone and in a batch differ by %g: decoding depends on the batch", f, same)
		}
		if !(differ > 1e-3) {
			t.Errorf("%s: two noise vectors decode to the same image (sum of differences %g)", f, differ)
		}
	}
}

// TestGANTrainingMoves trains each GAN briefly on real MNIST: both
// players' losses move (the discriminator's falls as it learns, the
// generator's answers), every term is recorded at every step, and the
// fixed-noise samples' diversity is recorded.
func TestGANTrainingMoves(t *testing.T) {
	for _, f := range ganFamilies {
		res, db := trainBriefly(t, f, narrow(f))
		history := func(key string) []float64 {
			h, err := db.MetricHistory(res.RunID, key)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != res.Steps {
				t.Fatalf("%s: %s recorded at %d steps, want %d", f, key, len(h), res.Steps)
			}
			vs := make([]float64, len(h))
			for i, p := range h {
				vs[i] = p.Value
			}
			return vs
		}
		disc, gen := history("train/disc"), history("train/gen")
		t.Logf("%s: disc %.3v\n gen %.3v", f, disc, gen)
		// The discriminator learns: its loss falls from its first step's.
		var last float64
		for _, v := range disc[len(disc)-10:] {
			last += v / 10
		}
		if !(last < disc[0]-0.1) {
			t.Errorf("%s: the discriminator's loss did not fall: %.4f at step 1, %.4f over the last 10 steps", f, disc[0], last)
		}
		// The generator's loss answers (on MNIST it swings as the players
		// take turns ahead, by about 0.15 for gan's batch-normed generator
		// near equilibrium; dcgan's climbs as its discriminator wins).
		if lo, hi := slices.Min(gen), slices.Max(gen); !(hi-lo > 0.1) {
			t.Errorf("%s: the generator's loss stayed within [%.4f, %.4f]", f, lo, hi)
		}
		for _, k := range []string{"train/d_real", "train/d_fake", "train/fake_spread", "test/gen", "test/d_fake"} {
			if h, _ := db.MetricHistory(res.RunID, k); len(h) == 0 {
				t.Errorf("%s: %s not recorded", f, k)
			}
		}
		if h, _ := db.MetricHistory(res.RunID, "samples/diversity"); len(h) == 0 {
			t.Errorf("%s: no samples/diversity recorded", f)
		}
		// The trained generator decodes chosen noise, as the notebooks'
		// interpolations do: the ends of a line reproduce themselves.
		tr, err := experiments.Load(db, res.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if !tr.CanDecode() || tr.CanEncode() || tr.CanReconstruct() {
			t.Errorf("%s: capabilities decode=%v encode=%v reconstruct=%v, want decode only", f, tr.CanDecode(), tr.CanEncode(), tr.CanReconstruct())
		}
		a, b := make([]float32, 100), make([]float32, 100)
		for i := range a {
			a[i], b[i] = float32(math.Sin(float64(i))), float32(math.Cos(float64(i)))
		}
		imgs, err := tr.Decode([][]float32{a, b, a}, nil)
		if err != nil || len(imgs) != 3 || len(imgs[0]) != 784 {
			t.Fatalf("%s: Decode: %d images, %v", f, len(imgs), err)
		}
		var same, differ float64
		for i := range imgs[0] {
			same = math.Max(same, math.Abs(float64(imgs[0][i]-imgs[2][i])))
			differ += math.Abs(float64(imgs[0][i] - imgs[1][i]))
		}
		if same > 1e-5 || !(differ > 1e-3) {
			t.Errorf("%s: Decode: the same noise gave images %g apart, different noise %g apart", f, same, differ)
		}
	}
}

func TestGANRejectsBadHyperparameters(t *testing.T) {
	for _, f := range ganFamilies {
		for _, tc := range []struct {
			params map[string]any
			want   string
		}{
			{map[string]any{"latent_dim": 0}, "latent_dim=0"},
			{map[string]any{"noise": "cauchy"}, `noise="cauchy"`},
			{map[string]any{"hidden": "64,0"}, "hidden=[64 0]"},
			{map[string]any{"disc_lr": -1}, "disc_lr=-1"},
			{map[string]any{"disc_hidden": "0"}, "disc_hidden=[0]"},
			{map[string]any{"arch": "conv"}, `unknown hyperparameter "arch"`},
		} {
			_, _, err := variants.New(f, tc.params, mnistData)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s params %v: error %v, want one naming %q", f, tc.params, err, tc.want)
			}
		}
		if f == "gan" {
			if _, _, err := variants.New(f, map[string]any{"disc_dropout": 1}, mnistData); err == nil || !strings.Contains(err.Error(), "disc_dropout=1") {
				t.Errorf("gan disc_dropout=1: error %v, want one naming it", err)
			}
		}
		seq := vae.Data{Name: "series", Shape: vae.Shape{Frames: 10, Height: 1, Width: 1, Channels: 3}, Real: true, N: 100}
		if _, _, err := variants.New(f, nil, seq); err == nil || !strings.Contains(err.Error(), "sequences") {
			t.Errorf("%s on sequences: error %v, want one saying it models single images", f, err)
		}
	}
}

// TestGANTrainingDeclared checks the declared training: Adam(2e-4, β1 = 0.5)
// for both players, one update of each per batch, and alarms on terms the
// families record.
func TestGANTrainingDeclared(t *testing.T) {
	for _, f := range ganFamilies {
		_, cfg, err := variants.New(f, nil, mnistData)
		if err != nil {
			t.Fatal(err)
		}
		tr := cfg.Training()
		v := variants.Values(cfg)
		if tr.LR != 2e-4 || tr.Beta1 != 0.5 || tr.AuxSteps != 1 || v["disc_lr"] != 2e-4 || v["disc_beta1"] != 0.5 {
			t.Errorf("%s: training %+v, disc Adam %v/%v: want Adam(2e-4, β1 = 0.5) for both", f, tr, v["disc_lr"], v["disc_beta1"])
		}
		terms := lossOnBatch(t, f, nil, 1, 8)
		names := map[string]bool{}
		for _, a := range tr.Alarms {
			names[a.Name] = true
			if _, ok := terms[a.Term]; !ok {
				t.Errorf("%s: alarm %s watches %q, which the family does not record", f, a.Name, a.Term)
			}
		}
		if !names["d_wins"] || !names["g_loss_explodes"] {
			t.Errorf("%s: alarms %v, want d_wins and g_loss_explodes", f, tr.Alarms)
		}
	}
}

// TestGANLong trains each GAN on all of MNIST (5 epochs by default, see
// trainFull) and checks the outcome on the test set: the generated images
// vary as much as the data do (fake_spread, evaluation-mode generator),
// and the discriminator has not won outright.
//
//	VAEXP_LONG=1 go test -run 'TestGANLong/dcgan' -timeout 60m -v ./variants/
func TestGANLong(t *testing.T) {
	for _, f := range ganFamilies {
		t.Run(f, func(t *testing.T) {
			res := trainFull(t, f, nil, 5, func(s *experiments.Spec) { s.Eval.Samples = 64 })
			if s := res.Metrics["test/fake_spread"]; !(s > 0.6 && s < 1.5) {
				t.Errorf("%s: test/fake_spread = %.3f, want within [0.6, 1.5] of the data's", f, s)
			}
			if d := res.Metrics["test/d_fake"]; !(d > 0.02) {
				t.Errorf("%s: test/d_fake = %.4f: the discriminator wins outright", f, d)
			}
		})
	}
}
