// Package simd reports which SIMD kernels GoMLX's pure-Go backend uses in
// this process, so that benchmarks, `vaexp version` and bug reports say which
// code path produced a number.
//
// The backend chooses at start-up: AVX-512 kernels where the CPU has them,
// else AVX2 ones, else portable code; GOMLX_GO_SIMD_AVX512=false and
// GOMLX_GO_SIMD_AVX2=false turn a path off. Float results differ in the last
// bits between the paths, and speed differs a lot, so every figure vaexp
// prints names its path. The backend keeps its own decision in an internal
// package; Path repeats the same test (CPU feature and environment variable),
// which is why it lives here rather than being read from GoMLX.
package simd

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// The kernel paths Path reports.
const (
	// AVX512 is the AVX-512 kernels (matmul, activations, reductions).
	AVX512 = "avx512"
	// AVX2 is the AVX2 kernels: what AVX2-only x86 CPUs, or
	// GOMLX_GO_SIMD_AVX512=false, get.
	AVX2 = "avx2"
	// Portable is the backend's generic code: no x86 SIMD kernels (another
	// architecture, a CPU without AVX2, or both paths switched off).
	Portable = "portable"
	// Off means the binary was built without GOEXPERIMENT=simd: no SIMD
	// kernels at all, about 12x slower.
	Off = "off"
)

// Environment variables that switch a kernel path off (GoMLX's names).
const (
	EnvAVX512 = "GOMLX_GO_SIMD_AVX512"
	EnvAVX2   = "GOMLX_GO_SIMD_AVX2"
)

// Path is the kernel path the Go backend takes in this process: AVX512,
// AVX2, Portable or Off.
func Path() string { return path(allowed) }

// path decides from the availability of each path, as the backend does:
// AVX-512 first, then AVX2.
func path(ok func(env string) bool) string {
	if !built {
		return Off
	}
	switch {
	case ok(EnvAVX512):
		return AVX512
	case ok(EnvAVX2):
		return AVX2
	}
	return Portable
}

// Describe is Path in words, with how to switch paths: one line for
// `vaexp version` and benchmark headers.
func Describe() string {
	switch p := Path(); p {
	case AVX512:
		return "avx512 (AVX-512 kernels; " + EnvAVX512 + "=false forces the AVX2 path users without AVX-512 get)"
	case AVX2:
		if cpuHas(EnvAVX512) {
			return "avx2 (AVX-512 switched off by " + EnvAVX512 + "=" + os.Getenv(EnvAVX512) + ")"
		}
		return "avx2 (this CPU has no AVX-512)"
	case Portable:
		return "portable (no AVX2 or AVX-512 kernels on this CPU or architecture, or both switched off)"
	default:
		return "off (built without GOEXPERIMENT=simd: the Go backend is ~12x slower; rebuild with it)"
	}
}

// BenchHeader is a benchmark configuration line ("simd: avx512"), which
// benchstat reads like the "cpu:" line `go test -bench` prints.
func BenchHeader() string { return fmt.Sprintf("simd: %s", Path()) }

// TestMain runs a test binary's tests and benchmarks (m is its *testing.M)
// and returns the exit status; when benchmarks were asked for, it first
// prints BenchHeader, so that figures from the AVX-512 and AVX2 paths are
// never compared unawares. A package's TestMain is then
//
//	func TestMain(m *testing.M) { os.Exit(simd.TestMain(m)) }
func TestMain(m interface{ Run() int }) int {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		fmt.Println(BenchHeader())
	}
	return m.Run()
}

// envOff reports whether the environment switches a path off, with GoMLX's
// spellings of false (init removes values GoMLX cannot read).
func envOff(env string) bool { return falseSpellings[strings.ToLower(os.Getenv(env))] }

// allowed reports whether the CPU has the path's instructions and the
// environment leaves it on.
func allowed(env string) bool { return cpuHas(env) && !envOff(env) }
