//go:build !amd64

package iwae

// asmEpilogues is false off amd64: the Go versions run.
func asmEpilogues() bool { return false }

func bernoulliBlock(l, xm []float32, out *[48]float32) { panic("iwae: no assembly kernels off amd64") }

func tanhBlock(x []float32) { panic("iwae: no assembly kernels off amd64") }
