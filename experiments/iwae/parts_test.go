package iwae

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkParts times each step of the estimate on one thread, per sample
// of the IWAE paper's model, in cycles (thread CPU time × clockHz): the
// three GEMMs, the two tanh layers, the Bernoulli reduction and the normals.
func BenchmarkParts(b *testing.B) {
	unlock := lockThread()
	defer unlock()
	hz := clockHz()
	kn := theKernel()
	layers, x, _, _ := paperModel(1)
	pk := make([]packed, 3)
	for i, l := range layers {
		pk[i] = pack(l, kn)
	}
	rows := 128 / kn.mr * kn.mr
	rng := rand.New(rand.NewPCG(1, 2))
	z := make([]float32, rows*50)
	for i := range z {
		z[i] = float32(rng.NormFloat64())
	}
	h1, h2 := make([]float32, rows*pk[0].outPad), make([]float32, rows*pk[1].outPad)
	logits := make([]float32, kn.mr*pk[2].outPad)
	xm := make([]float32, 784)
	for i := range xm {
		xm[i] = x[i] - 0.5
	}
	eps := make([]float32, rows*50/blockSize*blockSize+blockSize)
	run := func(name string, perSample float64, fn func()) {
		b.Run(name, func(b *testing.B) {
			unlock := lockThread() // threadCPU reads this goroutine's thread
			defer unlock()
			c0 := threadCPU()
			for i := 0; i < b.N; i++ {
				fn()
			}
			b.ReportMetric((threadCPU()-c0).Seconds()*hz/float64(b.N)/perSample, "cycles/sample")
		})
	}
	run("gemm1", float64(rows), func() { kn.gemm(&pk[0], rows, z, 50, h1, pk[0].outPad) })
	run("tanh1", float64(rows), func() { activate(h1, Tanh) })
	run("gemm2", float64(rows), func() { kn.gemm(&pk[1], rows, h1, pk[0].outPad, h2, pk[1].outPad) })
	run("gemm3", float64(rows), func() {
		for r := 0; r < rows; r += kn.mr {
			kn.rowBlock(&pk[2], &h2[r*pk[1].outPad], pk[1].outPad, logits, pk[2].outPad)
		}
	})
	run("bernoulli", 1, func() { bernoulliLogLik(logits[:784], xm) })
	run("normals", float64(rows), func() { normalBlocks(eps, 7, 0) })
}
