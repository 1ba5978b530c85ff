package iwae

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernels lists every microkernel this CPU can run, the portable one included.
func kernels() []kernel {
	ks := []kernel{goKernel}
	if k := archKernel(); k.name != goKernel.name {
		ks = append(ks, k)
	}
	return ks
}

func randomLayer(rng *rand.Rand, in, out int, act Activation) Layer {
	l := Layer{In: in, Out: out, Weights: make([]float32, in*out), Biases: make([]float32, out), Act: act}
	for i := range l.Weights {
		l.Weights[i] = float32(rng.NormFloat64() / math.Sqrt(float64(in)))
	}
	for i := range l.Biases {
		l.Biases[i] = float32(rng.NormFloat64())
	}
	return l
}

// TestGEMMKernels checks each microkernel's packed GEMM against a float64
// reference, for widths that do and do not fill whole panels.
func TestGEMMKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kn := range kernels() {
		for _, sz := range [][2]int{{50, 200}, {200, 784}, {7, 33}, {1, 5}} {
			in, out := sz[0], sz[1]
			l := randomLayer(rng, in, out, Identity)
			p := pack(l, kn)
			rows := 5 * kn.mr
			lda, ldc := in+3, p.outPad+1
			a := make([]float32, rows*lda)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			c := make([]float32, rows*ldc)
			kn.gemm(&p, rows, a, lda, c, ldc)
			for r := 0; r < rows; r++ {
				for o := 0; o < p.outPad; o++ {
					want := 0.0
					if o < out {
						want = float64(l.Biases[o])
						for q := 0; q < in; q++ {
							want += float64(a[r*lda+q]) * float64(l.Weights[o*in+q])
						}
					}
					if got := float64(c[r*ldc+o]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("%s %dx%d: C[%d,%d] = %g, want %g", kn.name, in, out, r, o, got, want)
					}
				}
			}
		}
	}
}

// BenchmarkGEMMKernel times the decoder's largest product, [512, 200]·[200, 784],
// per microkernel, on one thread. FLOP/cycle uses the thread's CPU time and the
// clock measured by a dependent-add chain (see clockHz), so it stays meaningful
// on a loaded machine: 32 is Zen 4's FP32 FMA peak (two 256-bit FMA pipes).
func BenchmarkGEMMKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kn := range kernels() {
		b.Run(kn.name, func(b *testing.B) {
			const rows0, in, out = 512, 200, 784
			rows := rows0 / kn.mr * kn.mr
			p := pack(randomLayer(rng, in, out, Identity), kn)
			a := make([]float32, rows*in)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			c := make([]float32, rows*p.outPad)
			unlock := lockThread()
			defer unlock()
			hz := clockHz()
			b.ResetTimer()
			cpu0 := threadCPU()
			for i := 0; i < b.N; i++ {
				kn.gemm(&p, rows, a, in, c, p.outPad)
			}
			sec := (threadCPU() - cpu0).Seconds()
			flops := 2 * float64(rows) * in * float64(p.outPad) * float64(b.N)
			b.ReportMetric(flops/sec/1e9, "GFLOP/cpu-s")
			b.ReportMetric(flops/sec/hz, "FLOP/cycle")
		})
	}
}
