package simd

import (
	"strings"
	"testing"
)

func TestPathOrder(t *testing.T) {
	for _, c := range []struct {
		on   []string
		want string
	}{
		{[]string{EnvAVX512, EnvAVX2}, AVX512},
		{[]string{EnvAVX2}, AVX2},
		{nil, Portable},
	} {
		ok := func(env string) bool {
			for _, e := range c.on {
				if e == env {
					return true
				}
			}
			return false
		}
		want := c.want
		if !built {
			want = Off
		}
		if got := path(ok); got != want {
			t.Errorf("paths %v on: Path %q, want %q", c.on, got, want)
		}
	}
}

// TestSwitchOff runs the real detection: on an AVX-512 machine the
// environment variable moves the process to the AVX2 path.
func TestSwitchOff(t *testing.T) {
	if !built || !cpuHas(EnvAVX512) {
		t.Skipf("path %s here: no AVX-512 to switch off", Path())
	}
	t.Setenv(EnvAVX512, "")
	if got := Path(); got != AVX512 {
		t.Errorf("AVX-512 CPU, nothing switched off: Path %q", got)
	}
	t.Setenv(EnvAVX512, "false")
	if got := Path(); got != AVX2 {
		t.Errorf("%s=false: Path %q, want avx2", EnvAVX512, got)
	}
	if d := Describe(); !strings.Contains(d, EnvAVX512) {
		t.Errorf("Describe %q does not say what switched AVX-512 off", d)
	}
	if h := BenchHeader(); h != "simd: avx2" {
		t.Errorf("BenchHeader %q", h)
	}
}
