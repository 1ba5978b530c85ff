package variants_test

import (
	"testing"

	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// TestEveryFamilyBothArchitectures builds every registered family with the
// MLP and the convolutional networks: outputs have the right shapes and values
// and every loss term is finite on real MNIST.
func TestEveryFamilyBothArchitectures(t *testing.T) {
	for _, name := range variants.Names() {
		for _, arch := range []string{"mlp", "conv"} {
			t.Run(name+"/"+arch, func(t *testing.T) {
				params := map[string]any{"arch": arch}
				requireOutputs(t, name, params, 8)
				terms := lossOnBatch(t, name, params, 1, 8)
				if len(terms) < 2 {
					t.Errorf("only %d loss outputs: %v", len(terms), terms)
				}
			})
		}
	}
}

func TestEveryFamilyDescribed(t *testing.T) {
	for _, f := range variants.All() {
		if f.Summary == "" || f.Paper == "" {
			t.Errorf("%s: summary or paper missing", f.Name)
		}
		for _, p := range variants.Describe(f.NewConfig()) {
			if p.Help == "" || p.Range == "" {
				t.Errorf("%s: hyperparameter %s lacks help or range", f.Name, p.Name)
			}
		}
		if _, err := variants.NewConfig(f.Name, map[string]any{"arch": "transformer"}, vae.MNISTShape); err == nil {
			t.Errorf("%s: arch=transformer accepted", f.Name)
		}
	}
}
