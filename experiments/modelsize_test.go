package experiments

import (
	"errors"
	"strings"
	"testing"

	"github.com/gomlx/compute/gobackend"

	"github.com/vaexp/vaexp/variants"
)

// TestCountParams counts the reference MNIST VAE's parameters exactly
// (784-400-(20+20) encoder, 20-400-784 decoder, with biases) and checks every
// family's graph builds for counting, without running it.
func TestCountParams(t *testing.T) {
	backend := gobackend.GetBackend()
	count := func(spec Spec) int64 {
		t.Helper()
		cfg, err := spec.Validate()
		if err != nil {
			t.Fatal(err)
		}
		desc, err := spec.Dataset()
		if err != nil {
			t.Fatal(err)
		}
		d := spec.DataInfo(desc)
		n, err := countParams(backend, cfg.Build(d), d, spec.Train.BatchSize)
		if err != nil {
			t.Fatalf("%s: %v", spec.Family, err)
		}
		return n
	}
	const want = (784*400 + 400) + (400*40 + 40) + (20*400 + 400) + (400*784 + 784)
	if n := count(DefaultSpec()); n != want {
		t.Errorf("default vae: %d parameters, want %d", n, want)
	}
	for _, family := range variants.Names() {
		spec := DefaultSpec()
		spec.Family = family
		if _, err := spec.Validate(); err != nil {
			spec.Data.Name, spec.Data.Binarize = "moving-mnist-1", "none"
		}
		if n := count(spec); n <= 0 {
			t.Errorf("%s: %d parameters", family, n)
		}
	}
}

// TestTooLargeModelRefused: a model whose training state exceeds half of the
// machine's memory is a usage mistake named before anything is allocated.
func TestTooLargeModelRefused(t *testing.T) {
	spec := DefaultSpec()
	spec.Params = map[string]any{"latent_dim": "100000000"}
	cfg, err := spec.Validate()
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := spec.Dataset()
	_, err = checkModelSize(gobackend.GetBackend(), cfg, spec, spec.DataInfo(desc))
	var se *SpecError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "120.2 billion parameters") || !strings.Contains(err.Error(), "latent_dim") {
		t.Fatalf("latent_dim 1e8: %v, want a *SpecError naming 120.2 billion parameters and latent_dim", err)
	}
	spec.Params = nil
	if cfg, err = spec.Validate(); err != nil {
		t.Fatal(err)
	}
	if n, err := checkModelSize(gobackend.GetBackend(), cfg, spec, spec.DataInfo(desc)); err != nil || humanCount(n) != "652,824" {
		t.Errorf("default vae: %s parameters, error %v; want 652,824 and none", humanCount(n), err)
	}
}
