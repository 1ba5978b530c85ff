package iwae

import (
	"runtime"
	"syscall"
	"time"
)

// lockThread pins the goroutine to its OS thread (for threadCPU).
func lockThread() func() {
	runtime.LockOSThread()
	return runtime.UnlockOSThread
}

// threadCPU is the calling thread's CPU time (RUSAGE_THREAD): unlike wall
// time it does not count the time other processes hold the core.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
