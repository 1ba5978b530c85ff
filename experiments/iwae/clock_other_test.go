//go:build !amd64

package iwae

// clockHz is unknown off amd64 (FLOP/cycle is then not reported).
func clockHz() float64 { return 0 }
