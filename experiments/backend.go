package experiments

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/go-xla/compute/xla"
	_ "github.com/gomlx/gomlx/backends/default" // registers XLA for users who have its plugin

	// Its init repairs SIMD switches GoMLX would panic on, before GoMLX reads them.
	_ "github.com/vaexp/vaexp/experiments/simd"
)

// SIMDEnabled reports whether this binary was built with GOEXPERIMENT=simd.
// Without it the pure-Go backend compiles and runs, silently, about 12× slower.
func SIMDEnabled() bool { return simdIn(runtime.Version()) }

// simdIn reads the experiments a Go version string was built with
// ("go1.27.3-X:simd linux/amd64" has it, "go1.27.3" has not).
func simdIn(version string) bool {
	_, exps, ok := strings.Cut(version, "X:")
	if !ok {
		return false
	}
	exps, _, _ = strings.Cut(exps, " ")
	for _, e := range strings.Split(exps, ",") {
		if e == "simd" {
			return true
		}
	}
	return false
}

// SIMDWarning is the start-up warning for a binary built without SIMD, or "".
func SIMDWarning() string {
	if SIMDEnabled() {
		return ""
	}
	return "WARNING: vaexp was built without GOEXPERIMENT=simd: the Go backend runs ~12x slower. " +
		"Rebuild with `GOEXPERIMENT=simd go build ./cmd/vaexp` (the Makefile does this)."
}

// NewBackend returns the compute backend: the pure-Go backend unless
// $GOMLX_BACKEND asks for another one (e.g. "xla:cpu", "xla:cuda"). XLA is
// never auto-installed: a missing plugin is an immediate error saying what to do.
func NewBackend() (backend compute.Backend, err error) {
	config := os.Getenv(compute.ConfigEnvVar)
	if config == "" || config == "go" || strings.HasPrefix(config, "go:") {
		_, opts, _ := strings.Cut(config, ":")
		return gobackend.New(opts)
	}
	// No run may wait on a download: the user installs the plugin
	// explicitly. go-xla reads GOMLX_NO_AUTO_INSTALL once, when the program
	// starts, so setting the variable here would be too late: switch the
	// installer off directly.
	xla.EnableAutoInstall(false)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
		if err != nil {
			backend = nil
			err = fmt.Errorf("backend %s=%q: %w; install the PJRT plugin for it (see github.com/gomlx/go-xla) or unset %s to use the pure-Go backend",
				compute.ConfigEnvVar, config, err, compute.ConfigEnvVar)
		}
	}()
	return compute.NewWithConfig(config)
}
