package experiments

import (
	"os"
	"strings"
	"testing"
)

func TestSIMDDetection(t *testing.T) {
	for version, want := range map[string]bool{
		"go1.27.3-X:simd":                 true,
		"go1.27.3-X:simd linux/amd64":     true,
		"go1.27.3-X:jsonv2,simd":          true,
		"go1.27.3":                        false,
		"go1.27.3-X:jsonv2":               false,
		"devel go1.28-abcdef X:nosimdfoo": false,
	} {
		if got := simdIn(version); got != want {
			t.Errorf("simdIn(%q) = %v, want %v", version, got, want)
		}
	}
	// The test binary itself is built by `make test` with GOEXPERIMENT=simd.
	if strings.Contains(os.Getenv("GOEXPERIMENT"), "simd") && !SIMDEnabled() {
		t.Errorf("built with GOEXPERIMENT=%s but SIMDEnabled() is false", os.Getenv("GOEXPERIMENT"))
	}
}

func TestXLAWithoutPluginFailsFast(t *testing.T) {
	t.Setenv("GOMLX_BACKEND", "xla:cpu")
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	_, err := NewBackend()
	if err == nil {
		t.Skip("an XLA plugin is installed here")
	}
	if !strings.Contains(err.Error(), "GOMLX_BACKEND") || !strings.Contains(err.Error(), "pure-Go backend") {
		t.Errorf("error %q should name GOMLX_BACKEND and the fix", err)
	}
	// Never a download: go-xla reads GOMLX_NO_AUTO_INSTALL only at start-up,
	// so the backend must switch its installer off itself.
	if strings.Contains(err.Error(), "auto-install") || strings.Contains(err.Error(), "fetch") {
		t.Errorf("error %q: the XLA backend tried to download its plugin", err)
	}
}
