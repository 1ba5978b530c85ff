package iwae

// addChain runs n iterations of 100 dependent ADDs (clock_amd64.s).
func addChain(n int) int

// clockHz measures the core clock on this thread: a chain of dependent
// integer additions retires one per cycle, so 100·n of them take 100·n
// cycles; the best of 5 runs of ~0.2 s thread CPU time each is reported.
// /proc/cpuinfo shows only the nominal (TSC) frequency in a VM, not the
// boost clock the cores run at.
func clockHz() float64 {
	const n = 5_000_000
	best := 0.0
	for range 5 {
		t0 := threadCPU()
		addChain(n)
		best = max(best, 100*n/(threadCPU()-t0).Seconds())
	}
	return best
}
