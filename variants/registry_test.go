package variants_test

import (
	"testing"

	"github.com/vaexp/vaexp/variants"
)

// TestEveryFamilyEveryArchitecture builds every registered family with each
// architecture it declares: outputs have the right shapes and values (for
// each capability it offers) and every loss term is finite on real MNIST.
func TestEveryFamilyEveryArchitecture(t *testing.T) {
	for _, f := range variants.All() {
		archs := f.Architectures()
		if archs == nil {
			archs = []string{""} // one fixed architecture
		}
		for _, arch := range archs {
			name := f.Name
			t.Run(name+"/"+arch, func(t *testing.T) {
				params := map[string]any{}
				if arch != "" {
					params["arch"] = arch
				}
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
		if f.Architectures() != nil {
			if _, err := variants.NewConfig(f.Name, map[string]any{"arch": "transformer"}, mnistData); err == nil {
				t.Errorf("%s: arch=transformer accepted", f.Name)
			}
		}
		if err := f.NewConfig().Training().Validate(); err != nil {
			t.Errorf("%s: declared training: %v", f.Name, err)
		}
	}
}
