// Package experiments owns what a run is made of: data sets, run specs, the
// one run driver every entry point calls ([Run]), and evaluation.
package experiments

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// Spec describes one run: the family and its hyperparameters, the data, the
// training budget and the seed. The CLI, sweeps and notebooks all build a
// Spec and call [Run].
type Spec struct {
	// Name labels the run in listings (optional).
	Name string `yaml:"name"`
	// Experiment groups runs in the tracker ("default" when empty).
	Experiment string `yaml:"experiment"`
	// Family is the registered model name (`vaexp models`).
	Family string `yaml:"model"`
	// Params overrides the family's hyperparameters (`--set name=value`).
	Params map[string]any `yaml:"params"`
	// Data selects the data set.
	Data DataSpec `yaml:"data"`
	// Train sets the budget and optimizer.
	Train TrainSpec `yaml:"train"`
	// Eval sets the evaluation done at the end of the run.
	Eval EvalSpec `yaml:"eval"`
	// Seed fixes initialization, sampling, shuffling and binarization.
	Seed int64 `yaml:"seed"`
	// Tags are free-form labels recorded with the run.
	Tags map[string]string `yaml:"tags"`
}

// DataSpec selects the data set and its preprocessing.
type DataSpec struct {
	// Name of the data set (`vaexp datasets` lists them).
	Name string `yaml:"name"`
	// Seed fixes what a generated data set draws. It is separate from the
	// run's seed and the same by default (1) for every run, so runs with
	// different seeds are compared on the same data.
	Seed int64 `yaml:"seed"`
	// Dir overrides where the files are found (--data-dir).
	Dir string `yaml:"dir"`
	// Binarize is "none" (grey levels in [0, 1]), "dynamic" (resampled each
	// epoch) or "static" (fixed once by the seed); only for intensity data.
	Binarize string `yaml:"binarize"`
	// Val carves this many validation examples out of the training set (0: none).
	Val int `yaml:"val"`
	// Limit keeps only the first Limit training examples (0: all), for quick runs.
	Limit int `yaml:"limit"`
	// TestLimit keeps only the first TestLimit test examples (0: all).
	TestLimit int `yaml:"test_limit"`
	// ExcludeClasses leaves the examples of these classes out of the
	// training and validation splits (never out of the test split): train
	// on every digit but one, then score the held-out digit as an anomaly
	// (`vaexp eval RUN --metrics anomaly`). Empty: every class.
	ExcludeClasses []int `yaml:"exclude_classes,flow,omitempty"`
}

// TrainSpec sets the budget and optimizer.
type TrainSpec struct {
	// Epochs to train; ignored when Steps > 0.
	Epochs int `yaml:"epochs"`
	// Steps to train in total (overrides Epochs when > 0).
	Steps int `yaml:"steps"`
	// BatchSize per step; the last partial batch of an epoch is dropped so every step has the same shape.
	BatchSize int `yaml:"batch_size"`
	// LR is the main Adam's learning rate; 0 takes the family's (1e-3 for
	// the VAE families, 2e-4 for the GANs).
	LR float64 `yaml:"lr"`
	// Beta1 and Beta2 are the main Adam's moment decay rates; 0 takes the
	// family's (0.9 and 0.999, or 0.5 and 0.999 for the GANs).
	Beta1 float64 `yaml:"beta1"`
	Beta2 float64 `yaml:"beta2"`
	// AdamEps is the main Adam's ε; 0 takes the family's (GoMLX's 1e-7
	// unless the family declares one, e.g. 1e-4 for iwae).
	AdamEps float64 `yaml:"adam_eps"`
	// LRSchedule is the main learning rate's schedule over the epochs,
	// "constant" or "burda2016" (see variants.Training); empty takes the family's.
	LRSchedule string `yaml:"lr_schedule"`
	// CheckpointEvery saves a checkpoint every this many steps (0: at each epoch end only).
	CheckpointEvery int `yaml:"checkpoint_every"`
	// LogEvery records the training terms every this many steps (default 1).
	LogEvery int `yaml:"log_every"`
}

// EvalSpec sets the end-of-run evaluation.
type EvalSpec struct {
	// BatchSize for evaluation.
	BatchSize int `yaml:"batch_size"`
	// IWAEK > 0 adds an importance-weighted log-likelihood estimate with k samples (families that support it).
	IWAEK int `yaml:"iwae_k"`
	// Samples is the number of generated images in the sample grid artifact.
	Samples int `yaml:"samples"`
	// Quality is the number of generated samples scored by FID-LeNet and IS
	// at each epoch's end and at the run's end (0: off; MNIST-like data only).
	Quality int `yaml:"quality"`
}

// DefaultSpec is the reference MNIST VAE run: 784-400-20-400-784, batch 128,
// Adam 1e-3 (the family's default), grey-level MNIST, 10 epochs.
func DefaultSpec() Spec {
	return Spec{
		Family: "vae",
		Data:   DataSpec{Name: "mnist", Seed: 1, Binarize: "none"},
		Train:  TrainSpec{Epochs: 10, BatchSize: 128, LogEvery: 1},
		Eval:   EvalSpec{BatchSize: 500, Samples: 60},
		Seed:   1,
	}
}

// Binarizations lists the valid DataSpec.Binarize values.
var Binarizations = []string{"none", "dynamic", "static"}

// Validate reports the first bad field, naming the value and the fix, and
// returns the family's validated config. Nothing is trained or written.
func (s *Spec) Validate() (variants.Config, error) {
	desc, err := s.Dataset()
	if err != nil {
		return nil, &SpecError{Err: err}
	}
	if !slices.Contains(Binarizations, s.Data.Binarize) {
		return nil, specErrorf("binarize %q: use one of %s", s.Data.Binarize, strings.Join(Binarizations, ", "))
	}
	if desc.Real && s.Data.Binarize != "none" {
		return nil, specErrorf("binarize %q: data %s holds real values, not intensities; use binarize none", s.Data.Binarize, desc.Name)
	}
	if err := s.checkRanges(); err != nil {
		return nil, err
	}
	if err := data.CheckClasses(s.Data.ExcludeClasses, desc.Classes, desc.Name); err != nil {
		return nil, err
	}
	if s.Data.Val >= desc.Train {
		return nil, specErrorf("data.val = %d: must be below the %d training examples of %s", s.Data.Val, desc.Train, desc.Name)
	}
	cfg, err := variants.NewConfig(s.Family, s.Params, s.DataInfo(desc))
	if err != nil {
		return nil, &SpecError{Err: err}
	}
	if err := checkParamsFinite(s.Family, cfg); err != nil {
		return nil, err
	}
	if err := s.Training(cfg).Validate(); err != nil {
		return nil, specErrorf("train: %w", err)
	}
	return cfg, nil
}

// Dataset describes the spec's data set.
func (s *Spec) Dataset() (data.Description, error) {
	ds, err := data.Get(s.Data.Name)
	if err != nil {
		return data.Description{}, err
	}
	return ds.Describe(), nil
}

// DataInfo is what the family learns of the data: desc with the number of
// training examples the spec leaves (after its validation split and limit).
// With excluded classes the count is the balanced-class estimate
// Train·(classes left)/classes, known without loading the data (MNIST's
// classes are within 12% of balanced; only β-TCVAE's log N uses it).
func (s *Spec) DataInfo(desc data.Description) vae.Data {
	train := desc.Train
	if k := len(s.Data.ExcludeClasses); k > 0 && desc.Classes > k {
		train = train * (desc.Classes - k) / desc.Classes
	}
	n := max(train-s.Data.Val, 0)
	if s.Data.Limit > 0 {
		n = min(n, s.Data.Limit)
	}
	return desc.Model(n)
}

// Training is the family's declared training with the spec's overrides
// (train.lr, train.beta1, train.beta2, train.adam_eps, train.lr_schedule) applied.
func (s *Spec) Training(cfg variants.Config) variants.Training {
	t := cfg.Training()
	if s.Train.LR != 0 {
		t.LR = s.Train.LR
	}
	if s.Train.Beta1 != 0 {
		t.Beta1 = s.Train.Beta1
	}
	if s.Train.Beta2 != 0 {
		t.Beta2 = s.Train.Beta2
	}
	if s.Train.AdamEps != 0 {
		t.Epsilon = s.Train.AdamEps
	}
	if s.Train.LRSchedule != "" {
		t.LRSchedule = s.Train.LRSchedule
	}
	return t
}

// LoadSpec reads a YAML spec file over [DefaultSpec]; unknown keys and type
// errors are reported with their line. Every error is a *SpecError.
func LoadSpec(path string) (Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Spec{}, specErrorf("read spec %s: %v (check the --spec path)", path, unwrapPath(err))
	}
	return ParseSpec(path, raw)
}

// ParseSpec parses YAML spec text (name is used in errors). Every error is a
// *SpecError naming the line and the spec key.
func ParseSpec(name string, raw []byte) (Spec, error) {
	spec := DefaultSpec()
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return Spec{}, specErrorf("spec %s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(root.Content) == 0 {
		return spec, nil // empty file: the defaults
	}
	if err := checkSpecNode(root.Content[0], reflect.TypeOf(spec), ""); err != nil {
		return Spec{}, specErrorf("spec %s: %w", name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return Spec{}, specErrorf("spec %s: %s", name, strings.Join(te.Errors, "; "))
		}
		return Spec{}, specErrorf("spec %s: %w", name, err)
	}
	return spec, nil
}

// ParseSet parses `--set name=value` pairs into params.
func ParseSet(pairs []string, params map[string]any) error {
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return specErrorf("--set %q: want name=value, e.g. --set beta=4", p)
		}
		params[k] = strings.TrimSpace(v)
	}
	return nil
}

// Values flattens the spec into tracker parameters ("data.binarize", "train.lr", ...)
// plus the family's hyperparameters under their own names.
func (s *Spec) Values(cfg variants.Config) map[string]any {
	out := map[string]any{
		"model":            s.Family,
		"seed":             s.Seed,
		"data.name":        s.Data.Name,
		"data.seed":        s.Data.Seed,
		"data.binarize":    s.Data.Binarize,
		"data.val":         int64(s.Data.Val),
		"data.limit":       int64(s.Data.Limit),
		"data.test_limit":  int64(s.Data.TestLimit),
		"train.epochs":     int64(s.Train.Epochs),
		"train.steps":      int64(s.Train.Steps),
		"train.batch_size": int64(s.Train.BatchSize),
		"eval.iwae_k":      int64(s.Eval.IWAEK),
	}
	if len(s.Data.ExcludeClasses) > 0 {
		// Only when set, so runs on every class keep the parameters they always had.
		out["data.exclude_classes"] = FormatClasses(s.Data.ExcludeClasses)
	}
	if cfg != nil {
		t := s.Training(cfg)
		out["train.lr"], out["train.beta1"], out["train.beta2"] = t.LR, t.Beta1, t.Beta2
		if t.Epsilon > 0 {
			out["train.adam_eps"] = t.Epsilon
		}
		if t.LRSchedule != "" {
			out["train.lr_schedule"] = t.LRSchedule
		}
		for k, v := range variants.Values(cfg) {
			out[k] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FormatClasses writes a class list as recorded in the tracker: "3" or "3,5".
func FormatClasses(classes []int) string {
	parts := make([]string, len(classes))
	for i, c := range classes {
		parts[i] = strconv.Itoa(c)
	}
	return strings.Join(parts, ",")
}

// ParseClasses parses a class list written as by [FormatClasses] ("3,5";
// "" is no class).
func ParseClasses(list string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		c, err := strconv.Atoi(p)
		if err != nil {
			return nil, specErrorf("class %q in %q: want class numbers separated by commas, e.g. 3 or 3,5", p, list)
		}
		out = append(out, c)
	}
	return out, nil
}
