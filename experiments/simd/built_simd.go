//go:build goexperiment.simd

package simd

// built: this binary has the SIMD experiment, so the backend's kernels exist.
const built = true
