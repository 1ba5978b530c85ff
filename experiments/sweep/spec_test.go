package sweep

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// TestShippedSpecs parses and expands every spec in experiments/sweeps and
// checks each trial's run spec is valid.
func TestShippedSpecs(t *testing.T) {
	want := map[string]struct {
		method string
		trials int
		metric string
	}{
		"beta.yaml":      {"grid", 18, "test/nelbo"},
		"latent_lr.yaml": {"grid", 24, "test/nelbo"},
		"halving.yaml":   {"halving", 27, "val/nelbo"},
		"families.yaml":  {"grid", 3 * len(reconstructingFamilies(t)), "test/recon"}, // × 3 seeds
	}
	files, err := filepath.Glob("../sweeps/*.yaml")
	if err != nil || len(files) != len(want) {
		t.Fatalf("experiments/sweeps has %v (%v), want %d specs", files, err, len(want))
	}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		w := want[filepath.Base(f)]
		defs, err := s.Expand()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if s.Method != w.method || len(defs) != w.trials || s.Metric != w.metric {
			t.Errorf("%s: method %s, %d trials, metric %s; want %+v", f, s.Method, len(defs), s.Metric, w)
		}
		for _, d := range defs {
			rs, err := s.TrialSpec(d)
			if err == nil {
				_, err = rs.Validate()
			}
			if err != nil {
				t.Errorf("%s trial %d: %v", f, d.Index, err)
			}
		}
	}
}

// TestFamiliesSpecListsEveryFamily fails when a registered family that
// reconstructs MNIST is missing from families.yaml: add the new family there.
func TestFamiliesSpecListsEveryFamily(t *testing.T) {
	s, err := Load("../sweeps/families.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, d := range s.Space {
		if d.Name == "model" {
			for _, v := range d.Values {
				listed = append(listed, fmt.Sprint(v))
			}
		}
	}
	for _, f := range reconstructingFamilies(t) {
		if !slices.Contains(listed, f) {
			t.Errorf("family %s is registered but missing from experiments/sweeps/families.yaml: add it to space.model", f)
		}
	}
}

// reconstructingFamilies lists the registered families that model MNIST and
// reconstruct it: the ones families.yaml compares.
func reconstructingFamilies(t *testing.T) []string {
	t.Helper()
	mnist, err := data.Get("mnist")
	if err != nil {
		t.Fatal(err)
	}
	d := mnist.Describe().Model(60000)
	var out []string
	for _, f := range variants.Names() {
		m, _, err := variants.New(f, nil, d)
		if err != nil {
			continue // a family for other data (the sequence families)
		}
		if _, ok := m.(vae.Reconstructor); !ok {
			continue // generators only (the GANs): compared in notebook 04 by FID instead
		}
		out = append(out, f)
	}
	return out
}

func mustParse(t *testing.T, text string) *Spec {
	t.Helper()
	s, err := Parse("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGridEnumeration: names in order, the last varying fastest, each
// configuration once per seed, the same on every call.
func TestGridEnumeration(t *testing.T) {
	s := mustParse(t, `
model: beta-vae
train: {steps: 10}
method: grid
space:
  train.lr: [0.001, 0.01]
  beta: [1, 4, 0.5]
seeds: [7, 9]
`)
	defs, err := s.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range defs {
		got = append(got, fmt.Sprintf("%d:%s@%d", d.Index, d.Config, d.Seed))
	}
	want := []string{
		`0:{"beta":1,"train.lr":0.001}@7`, `1:{"beta":1,"train.lr":0.001}@9`,
		`2:{"beta":1,"train.lr":0.01}@7`, `3:{"beta":1,"train.lr":0.01}@9`,
		`4:{"beta":4,"train.lr":0.001}@7`, `5:{"beta":4,"train.lr":0.001}@9`,
		`6:{"beta":4,"train.lr":0.01}@7`, `7:{"beta":4,"train.lr":0.01}@9`,
		`8:{"beta":0.5,"train.lr":0.001}@7`, `9:{"beta":0.5,"train.lr":0.001}@9`,
		`10:{"beta":0.5,"train.lr":0.01}@7`, `11:{"beta":0.5,"train.lr":0.01}@9`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("grid:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	again, _ := s.Expand()
	if !reflect.DeepEqual(again, defs) {
		t.Error("a second enumeration differs")
	}
	rs, err := s.TrialSpec(defs[7])
	if err != nil {
		t.Fatal(err)
	}
	if rs.Train.LR != 0.01 || rs.Params["beta"] != int64(4) || rs.Seed != 9 || rs.Name != "test-7" || rs.Experiment != "test" || rs.Tags["trial"] != "7" {
		t.Errorf("trial 7 spec: lr %g beta %v seed %d name %q experiment %q tags %v", rs.Train.LR, rs.Params["beta"], rs.Seed, rs.Name, rs.Experiment, rs.Tags)
	}
	// Ranges with steps: log-spaced and integer grids.
	s = mustParse(t, `
model: vae
train: {steps: 10}
method: grid
space:
  train.lr: {distribution: log_uniform, min: 1.0e-4, max: 1.0e-2, steps: 3}
  latent_dim: {distribution: int_uniform, min: 2, max: 4}
`)
	defs, _ = s.Expand()
	var cfgs []string
	for _, d := range defs {
		cfgs = append(cfgs, d.Config)
	}
	if len(cfgs) != 9 || cfgs[0] != `{"latent_dim":2,"train.lr":0.0001}` || cfgs[4] != `{"latent_dim":3,"train.lr":0.001}` || cfgs[8] != `{"latent_dim":4,"train.lr":0.01}` {
		t.Errorf("range grid: %v", cfgs)
	}
}

// TestRandomSampling: the same sampler seed gives the same trials; values
// respect their distributions; a discrete space is sampled without
// replacement.
func TestRandomSampling(t *testing.T) {
	text := `
model: vae
train: {steps: 10}
method: random
trials: 400
sampler_seed: %d
space:
  train.lr: {distribution: log_uniform, min: 1.0e-4, max: 1.0e-2}
  latent_dim: {distribution: log_int_uniform, min: 2, max: 64}
  hidden: ["200", "400"]
seeds: 2
`
	a, _ := mustParse(t, fmt.Sprintf(text, 3)).Expand()
	b, _ := mustParse(t, fmt.Sprintf(text, 3)).Expand()
	c, _ := mustParse(t, fmt.Sprintf(text, 4)).Expand()
	if len(a) != 800 || !reflect.DeepEqual(a, b) {
		t.Fatalf("same sampler seed, different trials (%d, %d)", len(a), len(b))
	}
	if reflect.DeepEqual(a, c) {
		t.Error("another sampler seed gave the same trials")
	}
	var below1e3, lowLatent int
	for i := 0; i < len(a); i += 2 {
		lr, ld := a[i].Params["train.lr"].(float64), a[i].Params["latent_dim"].(int64)
		if lr < 1e-4 || lr > 1e-2 || ld < 2 || ld > 64 || a[i+1].Config != a[i].Config || a[i+1].Seed != 2 {
			t.Fatalf("trial %d out of range or seeds not paired: %+v %+v", i, a[i], a[i+1])
		}
		if lr < 1e-3 {
			below1e3++
		}
		if ld < 8 {
			lowLatent++
		}
	}
	// Log-uniform: half the mass below the geometric mean (1e-3; 8 for [2, 64]).
	if below1e3 < 160 || below1e3 > 240 || lowLatent < 120 || lowLatent > 240 {
		t.Errorf("log-uniform draws: %d of 400 lr < 1e-3, %d latent_dim < 8; want about half", below1e3, lowLatent)
	}
	d, _ := mustParse(t, `
model: vae
train: {steps: 10}
method: random
trials: 6
space:
  latent_dim: [2, 4, 8]
  hidden: ["200", "400"]
`).Expand()
	seen := map[string]bool{}
	for _, x := range d {
		if seen[x.Config] {
			t.Errorf("configuration %s sampled twice from a discrete space", x.Config)
		}
		seen[x.Config] = true
	}
	if _, err := Parse("t.yaml", []byte("model: vae\nmethod: random\ntrials: 7\nspace: {latent_dim: [2, 4, 8], hidden: [\"200\", \"400\"]}\n")); err == nil ||
		!strings.Contains(err.Error(), "only 6 distinct") {
		t.Errorf("more trials than a discrete space holds: %v", err)
	}
}

// TestSpecErrors: every mistake is caught before training, with the file,
// line and column, and says how to fix it.
func TestSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		at         string // file:line:col
		want       []string
	}{
		{"unknown key", "model: vae\nmethod: grid\nspce: {beta: [1]}\n", "bad.yaml:3:1", []string{`unknown key "spce"`, "did you mean space?"}},
		{"unknown nested key", "model: vae\ntrain:\n  epoch: 3\nmethod: grid\nspace: {latent_dim: [2]}\n", "bad.yaml:3:3", []string{"train.epoch", "did you mean epochs?"}},
		{"empty grid", "model: vae\nmethod: grid\nspace:\n  latent_dim: []\n", "bad.yaml:4:15", []string{"empty list"}},
		{"empty space", "model: vae\nmethod: grid\nspace: {}\n", "bad.yaml:3:8", []string{"at least one parameter"}},
		{"bad distribution", "model: vae\nmethod: random\ntrials: 3\nspace:\n  train.lr: {distribution: loguniform, min: 1e-4, max: 1e-2}\n",
			"bad.yaml:5:28", []string{`"loguniform"`, "did you mean log_uniform?", "uniform, log_uniform"}},
		{"min > max", "model: vae\nmethod: random\ntrials: 3\nspace:\n  train.lr: {min: 0.1, max: 0.01}\n", "bad.yaml:5:13", []string{"min 0.1 > max 0.01", "swap"}},
		{"log of zero", "model: vae\nmethod: random\ntrials: 3\nspace:\n  train.lr: {distribution: log_uniform, min: 0, max: 0.01}\n", "bad.yaml:5:13", []string{"min > 0"}},
		{"unknown family", "model: vea\nmethod: grid\nspace: {latent_dim: [2]}\n", "bad.yaml:1:8", []string{`unknown model "vea"`, "vaexp models"}},
		{"unknown family in space", "model: vae\nmethod: grid\nspace:\n  model: [vae, nosuch]\n", "bad.yaml:4:16", []string{`unknown model "nosuch"`}},
		{"unknown param", "model: vae\nmethod: grid\nspace:\n  beta: [1, 4]\n", "bad.yaml:4:3", []string{`"beta" is not a hyperparameter of model vae`, "latent_dim"}},
		{"run setting misspelt", "model: vae\nmethod: grid\nspace:\n  lr: [0.001]\n", "bad.yaml:4:3", []string{"did you mean", "train.lr"}},
		{"unknown fixed param", "model: vae\nparams: {betta: 4}\nmethod: grid\nspace: {latent_dim: [2]}\n", "bad.yaml:2:10", []string{`no hyperparameter "betta"`}},
		{"refused value", "model: beta-vae\nmethod: grid\nspace:\n  beta: [1, -2]\n", "bad.yaml:4:13", []string{"beta = -2", "beta"}},
		{"metric not recorded", "model: ae\nmethod: grid\nspace: {latent_dim: [2]}\nmetric: test/kl\n", "bad.yaml:4:9", []string{`metric "test/kl" is not recorded by model ae`, "test/recon"}},
		{"val metric without val split", "model: vae\nmethod: grid\nspace: {latent_dim: [2]}\nmetric: val/nelbo\n", "bad.yaml:4:9", []string{"not recorded", "test/nelbo"}},
		{"no method", "model: vae\nspace: {latent_dim: [2]}\n", "bad.yaml:1:1", []string{"no method"}},
		{"bad method", "model: vae\nmethod: bayes\nspace: {latent_dim: [2]}\n", "bad.yaml:2:9", []string{`method "bayes"`, "grid, random, halving"}},
		{"grid over a range", "model: vae\nmethod: grid\nspace:\n  train.lr: {min: 0.001, max: 0.01}\n", "bad.yaml:4:3", []string{"steps: N"}},
		{"random without trials", "model: vae\nmethod: random\nspace: {latent_dim: [2, 4]}\n", "bad.yaml:1:1", []string{"trials: N"}},
		{"halving without settings", "model: vae\nmethod: halving\ntrials: 9\nspace: {latent_dim: [2, 4]}\n", "bad.yaml:1:1", []string{"halving: {min"}},
		{"halving eta", "model: vae\nmethod: halving\ntrials: 3\nspace: {latent_dim: [2, 4, 8]}\nhalving: {min: 1, max: 9, eta: 1}\n", "bad.yaml:5:10", []string{"eta >= 2"}},
		{"halving min > max", "model: vae\nmethod: halving\ntrials: 3\nspace: {latent_dim: [2, 4, 8]}\nhalving: {min: 9, max: 3}\n", "bad.yaml:5:10", []string{"min 9 > max 3"}},
		{"type error", "model: vae\ntrain:\n  epochs: three\nmethod: grid\nspace: {latent_dim: [2]}\n", "bad.yaml:3:11", []string{"three", "whole number"}},
		{"seed in space", "model: vae\nmethod: grid\nspace: {seed: [1, 2]}\n", "bad.yaml:3:9", []string{"seeds:"}},
		{"bad seeds", "model: vae\nmethod: grid\nspace: {latent_dim: [2]}\nseeds: 0\n", "bad.yaml:4:8", []string{"count >= 1"}},
		{"yaml syntax", "model: vae\nmethod: [grid\n", "bad.yaml:1:1", []string{"did not find"}},
		{"duplicate key", "model: vae\nmethod: grid\nspace:\n  latent_dim: [2]\n  latent_dim: [4]\n", "bad.yaml:5:3", []string{"given twice", "line 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tc.text))
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want a *SpecError", err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.at+": ") {
				t.Errorf("error %q is not at %s", err, tc.at)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestFullBudget(t *testing.T) {
	s, err := Load("../sweeps/halving.yaml")
	if err != nil {
		t.Fatal(err)
	}
	full, err := s.FullBudget()
	if err != nil {
		t.Fatal(err)
	}
	if full.Name != "halving-full" || full.Method != "random" || full.Run.Train.Epochs != 9 || full.Metric != "val/nelbo" {
		t.Errorf("full budget spec: %s %s epochs %d metric %s", full.Name, full.Method, full.Run.Train.Epochs, full.Metric)
	}
	a, _ := s.Expand()
	b, _ := full.Expand()
	if len(a) != len(b) {
		t.Fatalf("%d trials vs %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Config != b[i].Config || a[i].Seed != b[i].Seed {
			t.Fatalf("trial %d: %s vs %s", i, a[i].Config, b[i].Config)
		}
	}
	if math.IsNaN(float64(b[0].Budget)) || b[0].Budget != 0 {
		t.Errorf("full-budget trials have rung budget %d", b[0].Budget)
	}
}
