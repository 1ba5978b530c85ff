//go:build !goexperiment.simd

package simd

// built: this binary lacks the SIMD experiment; the backend has no kernels.
const built = false
