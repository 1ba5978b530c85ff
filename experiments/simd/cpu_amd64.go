//go:build amd64 && goexperiment.simd

package simd

import "simd/archsimd"

// cpuHas reports whether the CPU has the instructions of the path that env
// switches, with the test GoMLX's backend uses.
func cpuHas(env string) bool {
	switch env {
	case EnvAVX512:
		return archsimd.X86.AVX512()
	case EnvAVX2:
		return archsimd.X86.AVX2()
	}
	return false
}
