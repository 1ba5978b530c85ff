//go:build !amd64

package iwae

// archKernel is the portable Go microkernel off amd64.
func archKernel() kernel { return goKernel }
