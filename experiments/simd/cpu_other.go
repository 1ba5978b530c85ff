//go:build !amd64 || !goexperiment.simd

package simd

// cpuHas is false: GoMLX's x86 kernels exist only on amd64 with the SIMD
// experiment.
func cpuHas(string) bool { return false }
