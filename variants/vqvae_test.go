package variants_test

import (
	"math"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

func TestVQVAEOutputs(t *testing.T) {
	requireOutputs(t, "vq-vae", nil, 16)
	requireOutputs(t, "vq-vae", map[string]any{"ema": true, "latent_dim": 64, "embedding_dim": 16}, 16)
	requireOutputs(t, "vq-vae", map[string]any{"arch": "conv"}, 8)
}

func TestVQVAETermsFinite(t *testing.T) {
	for _, ema := range []bool{false, true} {
		got := lossOnBatch(t, "vq-vae", map[string]any{"ema": ema}, 1, 32)
		if _, ok := got["nelbo"]; ok {
			t.Error("vq-vae defines no ELBO, but its loss has a NELBO")
		}
		want := got["recon"] + got["codebook"] + 0.25*got["commit"]
		if ema {
			if _, ok := got["codebook"]; ok {
				t.Error("ema=true still has a codebook term")
			}
			want = got["recon"] + 0.25*got["commit"]
		} else if math.Abs(got["codebook"]-got["commit"]) > 1e-6*got["commit"] {
			// Same distance ‖z_e − e‖², different gradients.
			t.Errorf("codebook %.6f != commit %.6f in value", got["codebook"], got["commit"])
		}
		if math.Abs(got["total"]-want) > 1e-4*got["total"] {
			t.Errorf("ema=%v: total %.4f != recon + codebook + 0.25·commit = %.4f", ema, got["total"], want)
		}
		// Untrained: recon near 784·log 2 ≈ 543; usage starts uniform, so no
		// code is dead and the rate is 8·log 512 ≈ 49.9 nats.
		if got["recon"] < 400 || got["recon"] > 700 || got["commit"] <= 0 {
			t.Errorf("ema=%v: untrained terms out of range: %v", ema, got)
		}
		if got["perplexity"] < 1 || got["perplexity"] > 32*8 || got["dead_codes"] != 0 {
			t.Errorf("ema=%v: perplexity %.2f (want 1 … 256 for 256 codes drawn), dead_codes %g (want 0)", ema, got["perplexity"], got["dead_codes"])
		}
		if math.Abs(got["rate"]-8*math.Log(512)) > 1e-3 {
			t.Errorf("ema=%v: rate %.4f, want 8·log 512 = %.4f", ema, got["rate"], 8*math.Log(512))
		}
	}
}

// TestVQVAEStraightThrough checks the gradients of each term on an untrained
// model against known values:
//   - recon reaches the encoder (nonzero gradient on its first layer), and
//     through the straight-through path exactly: the gradient of recon with
//     respect to the encoder's output biases is Σ_b ∂recon/∂z_q, which is also
//     (∂recon/∂decoder-input-biases)·W_dec0ᵀ, computed without the encoder;
//   - recon and commit leave the codebook alone; the codebook loss leaves the
//     encoder alone and moves the codebook;
//   - the codes are the nearest codebook entries: commit equals the brute-force
//     Σ_j min_k ‖z_e,j − e_k‖².
func TestVQVAEStraightThrough(t *testing.T) {
	m, _, err := variants.New("vq-vae", nil, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(2); err != nil {
		t.Fatal(err)
	}
	x, y := mnistBatch(t, 16)
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		g := x.Graph()
		ms := scope.At("model")
		l := m.Loss(ms, vae.Batch{X: x, Labels: y})
		v := func(path string) *graph.Node {
			vr := store.GetVariable(path)
			if vr == nil {
				t.Fatalf("no variable %s", path)
			}
			return vr.NodeValue(g)
		}
		encOutB, encW0 := v("/model/encoder/layer_1/biases"), v("/model/encoder/layer_0/weights")
		decB0, decW0 := v("/model/decoder/layer_0/biases"), v("/model/decoder/layer_0/weights")
		codebook := v("/model/codebook/embeddings")
		sum := func(name string) *graph.Node { return graph.ReduceAllSum(l.Term(name).Value) }
		maxAbs := func(n *graph.Node) *graph.Node { return graph.ReduceAllMax(graph.Abs(n)) }

		gr := graph.Gradient(sum("recon"), encOutB, encW0, decB0, codebook)
		viaDecoder := graph.Einsum("h,hl->l", gr[2], decW0) // Σ_b ∂recon/∂z (weights are [out, in])
		gc := graph.Gradient(sum("commit"), codebook)
		gb := graph.Gradient(sum("codebook"), encW0, codebook)

		// Brute-force nearest codes from the encoder's output (same variables).
		zE := graph.Reshape(vae.MLP(ms.At("encoder"), vae.Flatten(x), []int{400}, 512, vae.InitPyTorch), 16, 8, 1, 64)
		dist := graph.ReduceSum(graph.Square(graph.Sub(zE, graph.Reshape(codebook, 1, 1, 512, 64))), -1) // [B, 8, 512]
		minDist := graph.ReduceSum(graph.ReduceMin(dist, -1), -1)
		return []*graph.Node{gr[0], viaDecoder, maxAbs(gr[1]), maxAbs(gr[3]), maxAbs(gc[0]), maxAbs(gb[0]), maxAbs(gb[1]),
			l.Term("commit").Value, minDist}
	}, x, y)
	if err != nil {
		t.Fatal(err)
	}
	st, ref := tensors.MustCopyFlatData[float32](outs[0]), tensors.MustCopyFlatData[float32](outs[1])
	scale := 0.0
	for _, r := range ref {
		scale = math.Max(scale, math.Abs(float64(r)))
	}
	if scale == 0 {
		t.Fatal("∂recon/∂z is zero")
	}
	for i := range st {
		if math.Abs(float64(st[i]-ref[i])) > 1e-4*scale {
			t.Fatalf("straight-through gradient at z_e[%d] = %g, want ∂recon/∂z_q = %g", i, st[i], ref[i])
		}
	}
	scalar := func(i int) float64 { return float64(tensors.ToScalar[float32](outs[i])) }
	if scalar(2) == 0 {
		t.Error("recon's gradient does not reach the encoder's first layer")
	}
	if scalar(3) != 0 || scalar(4) != 0 {
		t.Errorf("codebook moved by recon (max |grad| %g) or commit (%g)", scalar(3), scalar(4))
	}
	if scalar(5) != 0 || scalar(6) == 0 {
		t.Errorf("codebook loss: encoder grad %g (want 0), codebook grad %g (want nonzero)", scalar(5), scalar(6))
	}
	commit, minDist := tensors.MustCopyFlatData[float32](outs[7]), tensors.MustCopyFlatData[float32](outs[8])
	for i := range commit {
		if math.Abs(float64(commit[i]-minDist[i])) > 1e-4*float64(minDist[i]) {
			t.Errorf("example %d: commit %g != Σ min distance %g: codes are not the nearest", i, commit[i], minDist[i])
		}
	}
}

// TestVQVAEEMAUpdate checks one EMA step against its formula: after a
// training step from the initial state (cluster sizes 1, usage 1/K),
// N_k = 0.99 + 0.01·n_k, S_k = 0.99·S⁰_k + 0.01·Σ z_e assigned to k (checked
// through the row sums), usage = 0.99/K + 0.01·frequency; the EMA variables
// are not trainable; an evaluation step changes nothing.
func TestVQVAEEMAUpdate(t *testing.T) {
	const n, k, positions = 32, 64, 4
	m, _, err := variants.New("vq-vae", map[string]any{"ema": true, "codebook_size": k, "latent_dim": 64, "embedding_dim": 16}, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	vq := m.(*variants.VQVAE)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(3); err != nil {
		t.Fatal(err)
	}
	x, y := mnistBatch(t, n)
	call := func(training bool) []*tensors.Tensor {
		outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
			scope.SetTraining(x.Graph(), training)
			ms := scope.At("model")
			b := vae.Batch{X: x, Labels: y}
			codes := vq.Codes(ms, b) // creates the variables; no update
			sum0 := store.GetVariable("/model/codebook/ema_sum").NodeValue(x.Graph())
			zE := graph.Reshape(vae.MLP(ms.At("encoder"), vae.Flatten(x), []int{400}, 64, vae.InitPyTorch), n, positions, 16)
			vq.Loss(ms, b)
			return []*graph.Node{codes, sum0, zE}
		}, x, y)
		if err != nil {
			t.Fatal(err)
		}
		return outs
	}
	value := func(path string) []float32 {
		return tensors.MustCopyFlatData[float32](store.GetVariable(path).MustValue())
	}
	outs := call(true)
	codes := tensors.MustCopyFlatData[int32](outs[0])
	sum0 := tensors.MustCopyFlatData[float32](outs[1])
	zE := tensors.MustCopyFlatData[float32](outs[2])
	counts := make([]float64, k)
	freq := make([]float64, positions*k)
	assigned := make([]float64, k*16)
	for i, c := range codes {
		counts[c]++
		freq[(i%positions)*k+int(c)] += 1.0 / n
		for d := 0; d < 16; d++ {
			assigned[int(c)*16+d] += float64(zE[i*16+d])
		}
	}
	size, sum, usage := value("/model/codebook/ema_cluster_size"), value("/model/codebook/ema_sum"), value("/model/prior/usage")
	for c := 0; c < k; c++ {
		if want := 0.99 + 0.01*counts[c]; math.Abs(float64(size[c])-want) > 1e-5 {
			t.Fatalf("cluster size %d = %g, want %g", c, size[c], want)
		}
		for d := 0; d < 16; d++ {
			i := c*16 + d
			if want := 0.99*float64(sum0[i]) + 0.01*assigned[i]; math.Abs(float64(sum[i])-want) > 1e-5 {
				t.Fatalf("ema_sum[%d][%d] = %g, want %g", c, d, sum[i], want)
			}
		}
	}
	for i, u := range usage {
		if want := 0.99/k + 0.01*freq[i]; math.Abs(float64(u)-want) > 1e-6 {
			t.Fatalf("usage[%d] = %g, want %g", i, u, want)
		}
	}
	for _, path := range []string{"/model/codebook/ema_cluster_size", "/model/codebook/ema_sum", "/model/prior/usage"} {
		if store.GetVariable(path).Trainable {
			t.Errorf("%s is trainable", path)
		}
	}
	if store.GetVariable("/model/codebook/embeddings") != nil {
		t.Error("ema=true created a trainable codebook")
	}
	call(false)
	after := value("/model/codebook/ema_sum")
	for i := range after {
		if after[i] != sum[i] {
			t.Fatal("an evaluation step changed the EMA codebook")
		}
	}
}

// TestVQVAEPrior checks sampling from the fitted prior: with the usage of
// position 0 set to {code 3: 0.7, code 5: 0.3} and position 1 to code 9
// alone, SampleCodes draws those frequencies (4000 draws: 3σ ≈ 0.022), and
// the rate of an example is −Σ log p of its codes.
func TestVQVAEPrior(t *testing.T) {
	const k, positions, n = 16, 2, 4000
	m, _, err := variants.New("vq-vae", map[string]any{"codebook_size": k, "latent_dim": 32, "embedding_dim": 16}, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	vq := m.(*variants.VQVAE)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(4); err != nil {
		t.Fatal(err)
	}
	backend := gobackend.GetBackend()
	x, y := mnistBatch(t, 8)
	if _, err := model.CallOnce(backend, store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		return graph.ReduceAllSum(vq.Loss(scope.At("model"), vae.Batch{X: x, Labels: y}).Total())
	}, x, y); err != nil {
		t.Fatal(err)
	}
	usage := make([]float32, positions*k)
	usage[3], usage[5], usage[k+9] = 0.7, 0.3, 1
	store.GetVariable("/model/prior/usage").MustSetValue(tensors.FromFlatDataAndDimensions(usage, positions, k))
	outs, err := model.CallOnceN(backend, store, func(scope *model.Scope, x, y *graph.Node) []*graph.Node {
		ms := scope.At("model")
		b := vae.Batch{X: x, Labels: y}
		return []*graph.Node{vq.SampleCodes(ms, x.Graph(), n), vq.Codes(ms, b), vq.Loss(ms, b).Term("rate").Value}
	}, x, y)
	if err != nil {
		t.Fatal(err)
	}
	samples := tensors.MustCopyFlatData[int32](outs[0])
	counts := map[[2]int32]float64{}
	for i, c := range samples {
		counts[[2]int32{int32(i % positions), c}] += 1.0 / n
	}
	if math.Abs(counts[[2]int32{0, 3}]-0.7) > 0.025 || math.Abs(counts[[2]int32{0, 5}]-0.3) > 0.025 || counts[[2]int32{1, 9}] < 0.999 {
		t.Errorf("sampled frequencies %v, want position 0: 3→0.7, 5→0.3; position 1: 9→1", counts)
	}
	// The prior is (usage + 1e-6) renormalized over 16 codes.
	prob := func(u float32) float64 { return (float64(u) + 1e-6) / (1 + k*1e-6) }
	codes, rate := tensors.MustCopyFlatData[int32](outs[1]), tensors.MustCopyFlatData[float32](outs[2])
	for i := range rate {
		want := -math.Log(prob(usage[codes[i*positions]])) - math.Log(prob(usage[k+int(codes[i*positions+1])]))
		if math.Abs(float64(rate[i])-want) > 1e-3*math.Max(1, want) {
			t.Errorf("example %d (codes %v): rate %g, want %g", i, codes[i*positions:(i+1)*positions], rate[i], want)
		}
	}
}

func TestVQVAETrainingLossFalls(t *testing.T) {
	for _, params := range []map[string]any{nil, {"ema": true}} {
		res, db := trainBriefly(t, "vq-vae", params)
		requireLossFalls(t, db, res.RunID, "train/loss", 100)
		requireLossFalls(t, db, res.RunID, "train/recon", 100)
	}
}

func TestVQVAERejectsBadParams(t *testing.T) {
	for _, bad := range []map[string]any{
		{"codebook_size": 1}, {"embedding_dim": 0}, {"embedding_dim": 48}, {"commitment": -0.1},
		{"ema_decay": 1}, {"ema_decay": -0.5}, {"ema_epsilon": 0}, {"latent_dim": 0},
	} {
		if _, _, err := variants.New("vq-vae", bad, mnistData); err == nil {
			t.Errorf("params %v accepted", bad)
		} else {
			t.Logf("%v: %v", bad, err)
		}
	}
}

// TestVQVAELong is the measurement: the default VQ-VAE on full MNIST
// (VAEXP_LONG=1; VAEXP_SET=ema=true for the EMA codebook).
func TestVQVAELong(t *testing.T) {
	trainFull(t, "vq-vae", nil, 10, nil)
}
