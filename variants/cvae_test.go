package variants_test

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

func TestCVAEOutputs(t *testing.T) {
	requireOutputs(t, "cvae", nil, 16)
}

func TestCVAETermsFinite(t *testing.T) {
	got := lossOnBatch(t, "cvae", nil, 1, 32)
	if math.Abs(got["total"]-(got["recon"]+got["kl"])) > 1e-3*got["total"] || math.Abs(got["nelbo"]-got["total"]) > 1e-4*got["total"] {
		t.Errorf("want total = nelbo = recon + kl, got %v", got)
	}
	if got["recon"] < 400 || got["recon"] > 700 || got["kl"] < 0 || got["kl"] > 5 {
		t.Errorf("untrained terms out of range: %v", got)
	}
}

// TestCVAEUsesLabels trains briefly (the loss must fall), restores the model
// and checks that the labels matter both ways:
//   - generation: Generate with labels 0..9 cycling, as the driver calls it,
//     draws digits of the chosen classes: for each label k, the label's effect
//     on the mean generated image (its deviation from the average over labels)
//     correlates best with the deviation of class k's mean real digit (chance
//     would match 1 label in 10; the same codes decoded as 1s and as 7s differ);
//   - inference: the negative ELBO with the true labels is lower than with
//     wrong ones (label+1 mod 10).
func TestCVAEUsesLabels(t *testing.T) {
	res, db := trainBriefly(t, "cvae", nil)
	requireLossFalls(t, db, res.RunID, "train/loss", 100)
	trained, err := experiments.Load(db, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	cvae := trained.Model.(*variants.CVAE)

	const perClass, n = 32, 320
	outs, err := model.CallOnceN(trained.Backend, trained.Store, func(scope *model.Scope, g *graph.Graph) []*graph.Node {
		ms := scope.At("model")
		labels := graph.ConvertDType(graph.ModScalar(graph.Iota(g, shapes.Make(dtypes.Int32, n), 0), 10), dtypes.Int32)
		z := scope.RandomNormal(g, shapes.Make(dtypes.Float32, perClass, 20))
		label := func(k int) *graph.Node {
			return graph.AddScalar(graph.Zeros(g, shapes.Make(dtypes.Int32, perClass)), k)
		}
		return []*graph.Node{cvae.Generate(ms, g, n, labels), cvae.Decode(ms, z, label(1)), cvae.Decode(ms, z, label(7))}
	})
	if err != nil {
		t.Fatal(err)
	}
	generated := tensors.MustCopyFlatData[float32](outs[0])
	genMeans := make([][]float64, 10)
	for k := range genMeans {
		genMeans[k] = make([]float64, 784)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < 784; j++ {
			genMeans[i%10][j] += float64(generated[i*784+j]) / perClass
		}
	}
	x, y := mnistBatch(t, 2048)
	pixels, labels := tensors.MustCopyFlatData[float32](x), tensors.MustCopyFlatData[int32](y)
	realMeans, counts := make([][]float64, 10), make([]float64, 10)
	for k := range realMeans {
		realMeans[k] = make([]float64, 784)
	}
	for i, l := range labels {
		counts[l]++
		for j := 0; j < 784; j++ {
			realMeans[l][j] += float64(pixels[i*784+j])
		}
	}
	for k := range realMeans {
		for j := range realMeans[k] {
			realMeans[k][j] /= counts[k]
		}
	}
	genDev, realDev := deviations(genMeans), deviations(realMeans)
	matched := 0
	for k := range genDev {
		best, bestCorr := -1, math.Inf(-1)
		for c := range realDev {
			if r := correlation(genDev[k], realDev[c]); r > bestCorr {
				best, bestCorr = c, r
			}
		}
		t.Logf("label %d generates digits best matching class %d (correlation %.2f)", k, best, bestCorr)
		if best == k {
			matched++
		}
	}
	if matched < 7 {
		t.Errorf("only %d of 10 labels generate their own class", matched)
	}

	a, b := tensors.MustCopyFlatData[float32](outs[1]), tensors.MustCopyFlatData[float32](outs[2])
	diff := 0.0
	for i := range a {
		diff += math.Abs(float64(a[i]-b[i])) / float64(len(a))
	}
	t.Logf("mean |decode(z, 1) − decode(z, 7)| per pixel: %.4f", diff)
	if diff < 0.005 {
		t.Errorf("decoding the same codes as 1s and as 7s differs by only %.4f per pixel", diff)
	}

	nelbo := func(shift int32) float64 {
		out, err := model.CallOnce(trained.Backend, trained.Store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
			y = graph.ConvertDType(graph.ModScalar(graph.AddScalar(y, shift), 10), dtypes.Int32)
			return graph.ReduceAllMean(cvae.Loss(scope.At("model"), vae.Batch{X: x, Labels: y}).NELBO)
		}, x, y)
		if err != nil {
			t.Fatal(err)
		}
		return float64(tensors.ToScalar[float32](out))
	}
	right, wrong := nelbo(0), nelbo(1)
	t.Logf("negative ELBO with true labels %.2f, with wrong labels %.2f", right, wrong)
	if !(wrong > right+2) {
		t.Errorf("wrong labels do not hurt: negative ELBO %.2f with true labels, %.2f with wrong ones", right, wrong)
	}
}

// deviations subtracts the average row from each row.
func deviations(rows [][]float64) [][]float64 {
	avg := make([]float64, len(rows[0]))
	for _, r := range rows {
		for j, v := range r {
			avg[j] += v / float64(len(rows))
		}
	}
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			out[i][j] = v - avg[j]
		}
	}
	return out
}

// correlation is the cosine of the angle between a and b.
func correlation(a, b []float64) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += a[i] * b[i]
		aa += a[i] * a[i]
		bb += b[i] * b[i]
	}
	return ab / math.Sqrt(aa*bb)
}

func TestCVAENeedsLabels(t *testing.T) {
	unlabelled := vae.Data{Name: "unlabelled", Shape: vae.Shape{Height: 28, Width: 28, Channels: 1}, N: 100}
	if _, _, err := variants.New("cvae", nil, unlabelled); err == nil {
		t.Error("cvae accepted data without classes")
	} else {
		t.Log(err)
	}
	for _, bad := range []map[string]any{{"latent_dim": -1}, {"likelihood": "poisson"}} {
		if _, _, err := variants.New("cvae", bad, mnistData); err == nil {
			t.Errorf("params %v accepted", bad)
		}
	}
	m, _, err := variants.New("cvae", nil, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := mnistBatch(t, 4)
	_, err = model.CallOnce(gobackend.GetBackend(), model.NewStore(), func(scope *model.Scope, x *graph.Node) *graph.Node {
		return m.Loss(scope.At("model"), vae.Batch{X: x}).Total()
	}, x)
	if err == nil || !strings.Contains(err.Error(), "labels") {
		t.Errorf("a batch without labels: error %v, want one about labels", err)
	}
}

// TestCVAELong is the family's measurement: full MNIST, the reference MLP,
// 5 epochs (VAEXP_LONG=1; VAEXP_EPOCHS overrides). test/nelbo bounds
// −log p(x | y), not −log p(x).
//
//	VAEXP_LONG=1 go test -run TestCVAELong -timeout 60m -v ./variants/
func TestCVAELong(t *testing.T) {
	trainFull(t, "cvae", nil, 5, nil)
}
