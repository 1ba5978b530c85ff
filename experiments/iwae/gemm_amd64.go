package iwae

import (
	"os"

	"golang.org/x/sys/cpu"
)

// The assembly microkernels (gemm_amd64.s). Each computes one MR×NR block of
// C = bias + A·B with B a packed panel; k may be 0 (C = bias).
//
//go:noescape
func gemm8x32AVX512(k int, a *float32, lda int, b *float32, bias *float32, c *float32, ldc int)

//go:noescape
func gemm8x16AVX512(k int, a *float32, lda int, b *float32, bias *float32, c *float32, ldc int)

//go:noescape
func gemm6x16AVX2(k int, a *float32, lda int, b *float32, bias *float32, c *float32, ldc int)

//go:noescape
func gemm6x8AVX2(k int, a *float32, lda int, b *float32, bias *float32, c *float32, ldc int)

// archKernel picks the widest microkernel the CPU (and the OS) supports.
// GOMLX_GO_SIMD_AVX512=false and GOMLX_GO_SIMD_AVX2=false, the switches of
// GoMLX's own Go backend, force the narrower paths (e.g. to measure a user's
// AVX2-only machine on an AVX-512 one).
func archKernel() kernel {
	off := func(name string) bool {
		v := os.Getenv(name)
		return v == "false" || v == "0"
	}
	switch {
	case cpu.X86.HasAVX512F && !off("GOMLX_GO_SIMD_AVX512") && !off("GOMLX_GO_SIMD_AVX2"):
		return kernel{name: "avx512", mr: 8, nr: 32, fn: gemm8x32AVX512, half: gemm8x16AVX512}
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA && !off("GOMLX_GO_SIMD_AVX2"):
		return kernel{name: "avx2", mr: 6, nr: 16, fn: gemm6x16AVX2, half: gemm6x8AVX2}
	}
	return goKernel
}
