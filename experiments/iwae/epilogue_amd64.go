package iwae

import "sync"

// The AVX-512 element-wise kernels (epilogue_amd64.s), used with the AVX-512
// GEMM kernel: the Go SIMD versions in elementwise_simd.go compute the same,
// about three times slower (the compiler spills their constants and checks
// bounds in the loop).
//
//go:noescape
func bernoulliBlockAVX512(l, xm *float32, n int, out *float32)

//go:noescape
func tanhAVX512(x *float32, n int)

// asmEpilogues reports whether the AVX-512 element-wise kernels run.
var asmEpilogues = sync.OnceValue(func() bool { return theKernel().name == "avx512" })

// bernoulliBlock reduces len(l)/16 vectors (at least one) of logits l against
// xm = x − ½ into out: Σ l·xm, Σ |l| and Π (1 + e^−|l|), 16 lanes each.
func bernoulliBlock(l, xm []float32, out *[48]float32) {
	n := len(l) / 16
	_ = xm[n*16-1]
	bernoulliBlockAVX512(&l[0], &xm[0], n, &out[0])
}

// tanhBlock applies tanh to x[:len(x)/16·16].
func tanhBlock(x []float32) {
	if n := len(x) / 16; n > 0 {
		tanhAVX512(&x[0], n)
	}
}
