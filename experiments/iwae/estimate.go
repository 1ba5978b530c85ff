package iwae

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

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
// decoder together: their hidden activations (2 × 128 × 224 floats for the
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
//	log (1/k) Σₛ p(x | zₛ) p(zₛ) / q(zₛ | x),  zₛ ~ q(z | x) = N(μ, diag(exp(logVar))),
//
// with p(z) = N(0, I) and p(x | z) = Πⱼ Bernoulli(xⱼ; sigmoid(lⱼ)), l the
// decoder's output. x is [n, D] (values in [0, 1]; D is the last layer's
// Out), mu and logVar are [n, L] (L is the first layer's In), row-major.
//
// Each example's samples pass through the decoder in chunks of about 128:
// one GEMM per layer and chunk (the hidden activations applied in place),
// and for the output layer one GEMM block of a few rows at a time whose
// logits are reduced to log p(x | z) at once, while they are in L1 cache.
// Nothing per sample is allocated or written to memory beyond the chunk.
func Estimate(layers []Layer, x, mu, logVar []float32, opts Options) ([]float64, error) {
	return estimateWith(theKernel(), layers, x, mu, logVar, opts)
}

// estimateWith is Estimate on a given microkernel.
func estimateWith(kn kernel, layers []Layer, x, mu, logVar []float32, opts Options) ([]float64, error) {
	if err := check(layers, x, mu, logVar, opts.K); err != nil {
		return nil, err
	}
	pk := make([]packed, len(layers))
	for i, l := range layers {
		pk[i] = pack(l, kn)
	}
	lat, d := layers[0].In, layers[len(layers)-1].Out
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
			ws := newWorkspace(kn, pk, opts.K)
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				key := exampleKey(opts.Seed, opts.First+i)
				out[i] = ws.example(x[i*d:(i+1)*d], mu[i*lat:(i+1)*lat], logVar[i*lat:(i+1)*lat], opts.K, key)
			}
		}()
	}
	wg.Wait()
	return out, nil
}

// check validates Estimate's arguments.
func check(layers []Layer, x, mu, logVar []float32, k int) error {
	if len(layers) == 0 {
		return errors.New("iwae: the decoder has no layers")
	}
	for i, l := range layers {
		if l.In < 1 || l.Out < 1 || len(l.Weights) != l.In*l.Out || len(l.Biases) != l.Out {
			return fmt.Errorf("iwae: layer %d is %d→%d with %d weights and %d biases: want in·out weights [out, in] and out biases",
				i, l.In, l.Out, len(l.Weights), len(l.Biases))
		}
		if i > 0 && layers[i-1].Out != l.In {
			return fmt.Errorf("iwae: layer %d takes %d inputs but layer %d gives %d", i, l.In, i-1, layers[i-1].Out)
		}
		if l.Act != Identity && l.Act != Tanh && l.Act != Relu {
			return fmt.Errorf("iwae: layer %d has unknown activation %d", i, l.Act)
		}
	}
	if last := layers[len(layers)-1]; last.Act != Identity {
		return errors.New("iwae: the last layer gives logits and must have no activation")
	}
	lat, d := layers[0].In, layers[len(layers)-1].Out
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
// indices get distinct keys (hash32Scalar is a bijection).
func exampleKey(seed uint64, index int) uint32 {
	s := hash32Scalar(uint32(seed) ^ hash32Scalar(uint32(seed>>32)^0x9e3779b9))
	return hash32Scalar(uint32(index) ^ s)
}

// workspace holds one worker's buffers, sized for one chunk.
type workspace struct {
	kn      kernel
	layers  []packed
	rows    int // samples per chunk, a multiple of kn.mr
	eps, z  []float32
	hidden  [2][]float32
	logits  []float32
	lw      []float64
	xm, sig []float32
}

func newWorkspace(kn kernel, layers []packed, k int) *workspace {
	rows := max(chunkRows/kn.mr, 1) * kn.mr
	rows = min(rows, (k+kn.mr-1)/kn.mr*kn.mr)
	lat := layers[0].in
	last := layers[len(layers)-1]
	w := &workspace{kn: kn, layers: layers, rows: rows,
		eps: make([]float32, (rows*lat/blockSize+2)*blockSize), z: make([]float32, rows*lat),
		logits: make([]float32, kn.mr*last.outPad), lw: make([]float64, rows),
		xm: make([]float32, last.out), sig: make([]float32, lat)}
	widest := 0
	for _, p := range layers[:len(layers)-1] {
		widest = max(widest, p.outPad)
	}
	for i := range w.hidden {
		w.hidden[i] = make([]float32, rows*widest)
	}
	return w
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
	last := &w.layers[len(w.layers)-1]
	maxW, sum := math.Inf(-1), 0.0
	for s0 := 0; s0 < k; s0 += w.rows {
		rows := min(w.rows, k-s0)
		padded := (rows + mr - 1) / mr * mr
		// ε for samples s0 … s0+padded of the example's stream.
		start, end := s0*lat, (s0+padded)*lat
		b0, b1 := start/blockSize, (end+blockSize-1)/blockSize
		normalBlocks(w.eps[:(b1-b0)*blockSize], key, uint32(b0))
		eps := w.eps[start-b0*blockSize : end-b0*blockSize]
		logWeightPrior(w.z, eps, mu, w.sig, padded, halfLogVar, w.lw)

		in, lda := w.z, lat
		for i := range w.layers[:len(w.layers)-1] {
			p := &w.layers[i]
			h := w.hidden[i%2]
			kn.gemm(p, padded, in, lda, h, p.outPad)
			activate(h[:padded*p.outPad], p.act)
			in, lda = h, p.outPad
		}
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
