// Package iwae computes the k-sample importance-weighted estimate of
// log p(x) (Burda et al. 2016) for VAEs whose conditionals are MLPs: a
// diagonal Gaussian posterior q(z1 | x) given per example, optional
// stochastic layers above z1 with bottom-up inference, an N(0, I) prior on
// the top layer and Bernoulli pixels, on the CPU, with every step fused so
// that no per-sample intermediate leaves the caches.
//
// Why it is hand-written: the estimate with k = 5000 is decoder matrix
// products (2·10¹³ FLOP over the MNIST test set for the IWAE paper's model)
// followed by a reduction over 784 logits per sample. A GoMLX graph runs the
// products well but each element-wise step of the reduction as one pass over
// memory, and the k·B × 784 logits do not fit in cache; GoMLX's Go backend
// keeps its matrix-multiply kernels internal, and no Go library offers a
// product fused with a Bernoulli log-likelihood. So the package has its own
// small GEMM microkernels (gemm_amd64.s: 8×32 AVX-512, 6×16 AVX2, with
// half-width panels), its own element-wise kernels (epilogue_amd64.s for
// AVX-512; Go's portable SIMD, elementwise_simd.go, elsewhere; plain Go
// without GOEXPERIMENT=simd) and a counter-based Box–Muller normal stream, all
// checked against float64 references in the tests.
package iwae
