package iwae

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Model is the generative model and the inference network above z1 that
// Estimate samples: p(x | z1) by Decoder, and for each stochastic layer
// above z1 (bottom to top) the MLPs of q(zᵢ₊₁ | zᵢ) and p(zᵢ | zᵢ₊₁); the
// top layer's prior is N(0, I). q(z1 | x) is given per example (mu, logVar).
type Model struct {
	// Decoder maps z1 to the logits of Bernoulli pixels.
	Decoder []Layer
	// Upper lists the layers above z1, z2 first (empty: z1's prior is N(0, I)).
	Upper []Stochastic
}

// Stochastic is one stochastic layer above z1, zᵢ₊₁, with bottom-up
// inference (Burda et al. 2016, Section 5): each MLP's last layer gives the
// mean and then the log-variance of a diagonal Gaussian.
type Stochastic struct {
	// Up computes q(zᵢ₊₁ | zᵢ) from zᵢ: 2·dim(zᵢ₊₁) outputs.
	Up []Layer
	// Down computes p(zᵢ | zᵢ₊₁) from zᵢ₊₁: 2·dim(zᵢ) outputs.
	Down []Layer
}

// Options configures [Estimate].
type Options struct {
	// K is the number of importance samples per example (5000 in Burda et al.).
	K int
	// Seed selects the random stream. Example i of a call draws from the
	// stream of (Seed, First+i), so splitting a data set into several calls,
	// or changing Workers, draws the same samples.
	Seed uint64
	// First is the index of the call's first example in its data set.
	First int
	// Workers is the number of goroutines, each taking whole examples
	// (0: GOMAXPROCS).
	Workers int
}

// chunkRows is about how many samples of one example go through the
// decoder together: their hidden activations (2 × 128 × 208 floats for the
// IWAE paper's model) stay in a core's L2 cache next to the packed weights.
const chunkRows = 128

// Kernel names the GEMM microkernel this machine runs: "avx512" (8×32),
// "avx2" (6×16) or "go" (portable, slow).
func Kernel() string { return theKernel().name }

// Accelerated reports whether Estimate runs an assembly microkernel and
// vectorized element-wise steps; otherwise a GoMLX graph is faster.
func Accelerated() bool { return theKernel().name != goKernel.name && simdBuild }

var theKernel = sync.OnceValue(archKernel)

// Estimate returns, for each of the n examples, the k-sample importance-
// weighted estimate of log p(x) in nats,
//
//	log (1/k) Σₛ p(x, zₛ) / q(zₛ | x),  zₛ ~ q(z | x),
//
// with q(z1 | x) = N(μ, diag(exp(logVar))), q(zᵢ₊₁ | zᵢ) and p(zᵢ | zᵢ₊₁)
// the model's MLPs (Model.Upper), the top layer's prior N(0, I), and
// p(x | z1) = Πⱼ Bernoulli(xⱼ; sigmoid(lⱼ)), l the decoder's output. x is
// [n, D] (values in [0, 1]; D is the decoder's output width), mu and logVar
// are [n, L] (L = dim z1), row-major.
//
// Each example's samples pass through the networks in chunks of about 128:
// one GEMM per layer and chunk (activations applied in place), and for the
// decoder's output layer one GEMM block of a few rows at a time whose logits
// are reduced to log p(x | z1) at once, while they are in L1 cache. Nothing
// per sample is allocated or written to memory beyond the chunk.
//
// Cancelling ctx stops the estimate after the examples in progress (one per
// worker) and returns ctx's error: a large k takes minutes.
func Estimate(ctx context.Context, m Model, x, mu, logVar []float32, opts Options) ([]float64, error) {
	return estimateWith(ctx, theKernel(), m, x, mu, logVar, opts)
}

// net is a Model packed for a kernel.
type net struct {
	decoder  []packed
	up, down [][]packed
}

// estimateWith is Estimate on a given microkernel.
func estimateWith(ctx context.Context, kn kernel, m Model, x, mu, logVar []float32, opts Options) ([]float64, error) {
	if err := check(m, x, mu, logVar, opts.K); err != nil {
		return nil, err
	}
	packAll := func(ls []Layer) []packed {
		out := make([]packed, len(ls))
		for i, l := range ls {
			out[i] = pack(l, kn)
		}
		return out
	}
	nt := net{decoder: packAll(m.Decoder)}
	for _, s := range m.Upper {
		nt.up, nt.down = append(nt.up, packAll(s.Up)), append(nt.down, packAll(s.Down))
	}
	lat, d := m.Decoder[0].In, m.Decoder[len(m.Decoder)-1].Out
	n := len(mu) / lat
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	out := make([]float64, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := newWorkspace(kn, nt, opts.K)
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				key := exampleKey(opts.Seed, opts.First+i)
				out[i] = ws.example(x[i*d:(i+1)*d], mu[i*lat:(i+1)*lat], logVar[i*lat:(i+1)*lat], opts.K, key)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkMLP validates an MLP from in inputs to out outputs (out < 0: any);
// the last layer must be linear.
func checkMLP(name string, ls []Layer, in, out int) error {
	if len(ls) == 0 {
		return fmt.Errorf("iwae: %s has no layers", name)
	}
	for i, l := range ls {
		if l.In < 1 || l.Out < 1 || len(l.Weights) != l.In*l.Out || len(l.Biases) != l.Out {
			return fmt.Errorf("iwae: %s layer %d is %d→%d with %d weights and %d biases: want in·out weights [out, in] and out biases",
				name, i, l.In, l.Out, len(l.Weights), len(l.Biases))
		}
		if want := in; i > 0 {
			want = ls[i-1].Out
			if l.In != want {
				return fmt.Errorf("iwae: %s layer %d takes %d inputs but layer %d gives %d", name, i, l.In, i-1, want)
			}
		} else if in > 0 && l.In != in {
			return fmt.Errorf("iwae: %s takes %d inputs, want %d", name, l.In, in)
		}
		if l.Act != Identity && l.Act != Tanh && l.Act != Relu {
			return fmt.Errorf("iwae: %s layer %d has unknown activation %d", name, i, l.Act)
		}
	}
	last := ls[len(ls)-1]
	if last.Act != Identity {
		return fmt.Errorf("iwae: %s's last layer gives logits or Gaussian parameters and must have no activation", name)
	}
	if out > 0 && last.Out != out {
		return fmt.Errorf("iwae: %s gives %d outputs, want %d", name, last.Out, out)
	}
	return nil
}

// check validates Estimate's arguments.
func check(m Model, x, mu, logVar []float32, k int) error {
	if err := checkMLP("the decoder", m.Decoder, 0, -1); err != nil {
		return err
	}
	lat, d := m.Decoder[0].In, m.Decoder[len(m.Decoder)-1].Out
	below := lat
	for i, s := range m.Upper {
		if len(s.Up) == 0 {
			return fmt.Errorf("iwae: stochastic layer %d has no q network", i+2)
		}
		above := s.Up[len(s.Up)-1].Out / 2
		if err := checkMLP(fmt.Sprintf("q(z%d | z%d)", i+2, i+1), s.Up, below, 2*above); err != nil {
			return err
		}
		if err := checkMLP(fmt.Sprintf("p(z%d | z%d)", i+1, i+2), s.Down, above, 2*below); err != nil {
			return err
		}
		if int64(k)*int64(above) >= 1<<31 {
			return fmt.Errorf("iwae: k = %d: k × dim z%d must be below 2^31", k, i+2)
		}
		below = above
	}
	if len(mu) != len(logVar) || len(mu)%lat != 0 || len(x) != len(mu)/lat*d {
		return fmt.Errorf("iwae: %d means, %d log-variances and %d pixels do not make examples of %d latent dimensions and %d pixels",
			len(mu), len(logVar), len(x), lat, d)
	}
	if k < 1 || int64(k)*int64(lat) >= 1<<31 {
		return fmt.Errorf("iwae: k = %d: want at least 1 and k × latent dimensions below 2^31", k)
	}
	return nil
}

// exampleKey is the random-stream key of example index under seed: distinct
// indices get distinct keys (hash32Scalar is a bijection). Layer i > 0 of a
// hierarchy draws from the stream of layerKey(key, i).
func exampleKey(seed uint64, index int) uint32 {
	s := hash32Scalar(uint32(seed) ^ hash32Scalar(uint32(seed>>32)^0x9e3779b9))
	return hash32Scalar(uint32(index) ^ s)
}

// layerKey is the stream key of stochastic layer i (0: z1) of an example.
func layerKey(key uint32, i int) uint32 {
	if i == 0 {
		return key
	}
	return hash32Scalar(key ^ hash32Scalar(uint32(i)*0x85ebca6b))
}

// workspace holds one worker's buffers, sized for one chunk.
type workspace struct {
	kn     kernel
	nt     net
	rows   int // samples per chunk, a multiple of kn.mr
	eps    []float32
	z      [][]float32 // each stochastic layer's samples, [rows, dim]
	hidden [2][]float32
	params []float32 // an MLP's Gaussian parameters, [rows, padded 2·dim]
	logits []float32
	lw     []float64
	xm     []float32
	sig    []float32
}

func newWorkspace(kn kernel, nt net, k int) *workspace {
	rows := max(chunkRows/kn.mr, 1) * kn.mr
	rows = min(rows, (k+kn.mr-1)/kn.mr*kn.mr)
	last := nt.decoder[len(nt.decoder)-1]
	dims := []int{nt.decoder[0].in}
	widest, widestDim, widestParams := 0, dims[0], 0
	hiddenOf := func(ps []packed) {
		for _, p := range ps[:len(ps)-1] {
			widest = max(widest, p.outPad)
		}
	}
	hiddenOf(nt.decoder)
	for i := range nt.up {
		hiddenOf(nt.up[i])
		hiddenOf(nt.down[i])
		widestParams = max(widestParams, nt.up[i][len(nt.up[i])-1].outPad, nt.down[i][len(nt.down[i])-1].outPad)
		dims = append(dims, nt.up[i][len(nt.up[i])-1].out/2)
		widestDim = max(widestDim, dims[len(dims)-1])
	}
	w := &workspace{kn: kn, nt: nt, rows: rows,
		eps:    make([]float32, (rows*widestDim/blockSize+2)*blockSize),
		params: make([]float32, rows*widestParams),
		logits: make([]float32, kn.mr*last.outPad), lw: make([]float64, rows),
		xm: make([]float32, last.out), sig: make([]float32, dims[0])}
	for _, d := range dims {
		w.z = append(w.z, make([]float32, rows*d))
	}
	for i := range w.hidden {
		w.hidden[i] = make([]float32, rows*max(widest, 1))
	}
	return w
}

// normals returns ε for samples s0 … s0+rows of stochastic layer layer
// (dim dims each) of the example's streams.
func (w *workspace) normals(key uint32, layer, s0, rows, dim int) []float32 {
	start, end := s0*dim, (s0+rows)*dim
	b0, b1 := start/blockSize, (end+blockSize-1)/blockSize
	normalBlocks(w.eps[:(b1-b0)*blockSize], layerKey(key, layer), uint32(b0))
	return w.eps[start-b0*blockSize : end-b0*blockSize]
}

// mlp runs the hidden layers of ps over rows rows of in (row stride lda) and
// its last layer into out (row stride: the last layer's outPad).
func (w *workspace) mlp(ps []packed, rows int, in []float32, lda int, out []float32) {
	in, lda = w.hiddenLayers(ps, rows, in, lda)
	last := &ps[len(ps)-1]
	w.kn.gemm(last, rows, in, lda, out, last.outPad)
}

// hiddenLayers runs every layer of ps but the last over rows rows of in (row
// stride lda), alternating between the workspace's two hidden buffers, and
// returns the last hidden activations and their row stride (in and lda
// when ps has one layer).
func (w *workspace) hiddenLayers(ps []packed, rows int, in []float32, lda int) ([]float32, int) {
	for i := range ps[:len(ps)-1] {
		p := &ps[i]
		h := w.hidden[i%2]
		w.kn.gemm(p, rows, in, lda, h, p.outPad)
		activate(h[:rows*p.outPad], p.act)
		in, lda = h, p.outPad
	}
	return in, lda
}

// example returns one example's estimate.
func (w *workspace) example(x, mu, logVar []float32, k int, key uint32) float64 {
	lat := len(mu)
	halfLogVar := float32(0)
	for i, v := range logVar {
		w.sig[i] = float32(math.Exp(0.5 * float64(v)))
		halfLogVar += 0.5 * v
	}
	for j, v := range x {
		w.xm[j] = v - 0.5
	}
	kn, mr := w.kn, w.kn.mr
	dec := w.nt.decoder
	last := &dec[len(dec)-1]
	top := len(w.nt.up) == 0
	maxW, sum := math.Inf(-1), 0.0
	for s0 := 0; s0 < k; s0 += w.rows {
		rows := min(w.rows, k-s0)
		padded := (rows + mr - 1) / mr * mr
		// z1 ~ q(z1 | x); lw = −log q(z1 | x) (+ log N(z1; 0, I) when z1 is the top).
		logWeightPrior(w.z[0], w.normals(key, 0, s0, padded, lat), mu, w.sig, padded, halfLogVar, top, w.lw)
		for i := range w.nt.up {
			below, above := w.z[i], w.z[i+1]
			dimBelow, dim := len(below)/w.rows, len(above)/w.rows
			up := w.nt.up[i]
			// zᵢ₊₁ ~ q(zᵢ₊₁ | zᵢ): lw −= log q.
			w.mlp(up, padded, below, dimBelow, w.params)
			ld := up[len(up)-1].outPad
			sampleGaussian(above, w.normals(key, i+1, s0, padded, dim), w.params, ld, dim, padded, i+1 == len(w.nt.up), w.lw)
			// lw += log p(zᵢ | zᵢ₊₁).
			down := w.nt.down[i]
			w.mlp(down, padded, above, dim, w.params)
			gaussianLogDensity(below, w.params, down[len(down)-1].outPad, dimBelow, padded, w.lw)
		}
		// lw += log p(x | z1): the decoder, its output layer a block of mr rows at a time.
		in, lda := w.hiddenLayers(dec, padded, w.z[0], lat)
		for r := 0; r < padded; r += mr {
			kn.rowBlock(last, &in[r*lda], lda, w.logits, last.outPad)
			for q := 0; q < mr && r+q < rows; q++ {
				row := w.logits[q*last.outPad : q*last.outPad+last.out]
				w.lw[r+q] += float64(bernoulliLogLik(row, w.xm))
			}
		}
		// Streaming log-sum-exp over the chunk's log-weights.
		for _, v := range w.lw[:rows] {
			if v > maxW {
				sum = sum*math.Exp(maxW-v) + 1
				maxW = v
			} else {
				sum += math.Exp(v - maxW)
			}
		}
	}
	return maxW + math.Log(sum) - math.Log(float64(k))
}
