package iwae

import (
	"context"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

// paperModel is the IWAE paper's one-layer MNIST decoder, 50-200-200-784
// with tanh (random weights: the time does not depend on their values), and
// n examples with binary pixels.
func paperModel(n int) (layers []Layer, x, mu, logVar []float32) {
	rng := rand.New(rand.NewPCG(1, 1))
	layers = []Layer{randomLayer(rng, 50, 200, Tanh), randomLayer(rng, 200, 200, Tanh), randomLayer(rng, 200, 784, Identity)}
	x, mu, logVar = make([]float32, n*784), make([]float32, n*50), make([]float32, n*50)
	for i := range x {
		x[i] = float32(rng.IntN(2))
	}
	for i := range mu {
		mu[i] = float32(rng.NormFloat64())
		logVar[i] = -2
	}
	return layers, x, mu, logVar
}

// decoderFLOPs is 2 × the multiply-adds of one decoder pass of layers.
func decoderFLOPs(layers []Layer) float64 {
	f := 0.0
	for _, l := range layers {
		f += 2 * float64(l.In) * float64(l.Out)
	}
	return f
}

// BenchmarkEstimate times the k = 5000 estimate of the IWAE paper's model on
// 20 examples (a 500th of the MNIST test set) with all cores, and reports the
// time the 10000 test images would take (s/10k), the arithmetic rate on the
// decoder's multiply-adds (GFLOP per wall second and per CPU second) and the
// fraction of this machine's FP32 peak (32 FLOP/cycle per Zen 4 core at the
// clock clockHz measures, per CPU second, so that other processes' load does
// not count against it).
//
//	go test -run xxx -bench Estimate -benchtime 5x ./experiments/iwae/
func BenchmarkEstimate(b *testing.B) {
	const n, k = 20, 5000
	layers, x, mu, logVar := paperModel(n)
	hz := clockHz()
	b.ResetTimer()
	wall0, cpu0 := time.Now(), processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := Estimate(context.Background(), Model{Decoder: layers}, x, mu, logVar, Options{K: k, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
	wall, cpu := time.Since(wall0).Seconds(), (processCPU() - cpu0).Seconds()
	flops := decoderFLOPs(layers) * n * k * float64(b.N)
	b.ReportMetric(wall/float64(b.N)*10000/n, "s/10k")
	b.ReportMetric(flops/wall/1e9, "GFLOP/s")
	b.ReportMetric(flops/cpu/1e9, "GFLOP/cpu-s")
	if hz > 0 {
		b.ReportMetric(flops/cpu/hz/32, "of-peak")
	}
	b.Logf("kernel %s, clock %.2f GHz", Kernel(), hz/1e9)
}

// processCPU is the process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
