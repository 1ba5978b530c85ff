package experiments

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/vaexp/vaexp/variants"
)

// SpecError is a mistake in what a run asks for: a spec field, a flag value,
// a family or one of its hyperparameters, a spec file that does not parse.
// It is found before anything is recorded. The CLI recognizes it with
// errors.As and exits with status 2, its status for a usage error; every
// other error of [Run] is a failure at run time (status 1).
type SpecError struct {
	Err error
}

func (e *SpecError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SpecError) Unwrap() error { return e.Err }

// notSpecError turns a *SpecError into a plain error with the same text, for
// a spec the caller did not give (a recorded run's).
func notSpecError(err error) error {
	var se *SpecError
	if errors.As(err, &se) {
		return errors.New(err.Error())
	}
	return err
}

// specErrorf formats a *SpecError.
func specErrorf(format string, args ...any) error {
	return &SpecError{Err: fmt.Errorf(format, args...)}
}

// Upper bounds of spec fields. Each is far beyond a sensible run; a larger
// value is a typo that would otherwise exhaust memory or overflow a step
// count hours into a run.
const (
	// maxSteps: a billion steps is two months at 5 ms a step.
	maxSteps = 1_000_000_000
	// maxEpochs: epochs × steps per epoch must stay a valid step count.
	maxEpochs = 1_000_000
	// maxIWAEK: one example's k decodes are held at once (k·784 floats per
	// tensor, several tensors): 20000 is ~60 MB each.
	maxIWAEK = 20000
	// maxEvalBatch: an evaluation batch is padded to its full size; the
	// MNIST test set has 10000 examples.
	maxEvalBatch = 10000
	// maxSamples: the sample grid is one image; beyond this it is unreadable.
	maxSamples = 1024
	// maxQuality: FID-LeNet compares with MNIST's 10000 test images; 100000
	// samples already cost minutes per evaluation.
	maxQuality = 100000
)

// checkRanges checks every numeric field of the spec against its range.
// Data-dependent limits (batch size against the training examples) are
// checked once the data is loaded, still before the run is recorded.
func (s *Spec) checkRanges() error {
	ints := []struct {
		key    string
		v, max int // max 0: no upper bound
		min    int
		hint   string
	}{
		{"data.val", s.Data.Val, 0, 0, "--val N carves N validation examples out of the training set; 0: none"},
		{"data.limit", s.Data.Limit, 0, 0, "--limit N keeps the first N training examples; 0: all"},
		{"data.test_limit", s.Data.TestLimit, 0, 0, "--test-limit N keeps the first N test examples; 0: all"},
		{"train.epochs", s.Train.Epochs, maxEpochs, 0, "--epochs N, e.g. --epochs 10"},
		{"train.steps", s.Train.Steps, maxSteps, 0, "--steps N overrides --epochs when > 0; 0: train --epochs"},
		{"train.batch_size", s.Train.BatchSize, 0, 1, "--batch-size N, e.g. 128"},
		{"train.checkpoint_every", s.Train.CheckpointEvery, maxSteps, 0, "--checkpoint-every N steps; 0: at each epoch end"},
		{"train.log_every", s.Train.LogEvery, maxSteps, 0, "log_every N steps; 0 or 1: every step"},
		{"eval.batch_size", s.Eval.BatchSize, maxEvalBatch, 1, "eval batch_size, e.g. 500"},
		{"eval.iwae_k", s.Eval.IWAEK, maxIWAEK, 0, "--iwae-k K importance samples, e.g. 500; 0: skip"},
		{"eval.samples", s.Eval.Samples, maxSamples, 0, "--samples N generated images; 0: none"},
		{"eval.quality", s.Eval.Quality, maxQuality, 0, "--quality N samples scored by FID-LeNet and IS, e.g. 10000; 0: none"},
	}
	for _, f := range ints {
		switch {
		case f.max == 0 && f.v < f.min: // no upper bound of its own (the data set's size bounds it)
			return specErrorf("%s = %d: must be >= %d (%s)", f.key, f.v, f.min, f.hint)
		case f.max > 0 && (f.v < f.min || f.v > f.max):
			return specErrorf("%s = %d: must be in %d..%d (%s)", f.key, f.v, f.min, f.max, f.hint)
		}
	}
	if s.Train.Epochs < 1 && s.Train.Steps < 1 {
		return specErrorf("train.epochs = %d and train.steps = %d: set --epochs or --steps to at least 1", s.Train.Epochs, s.Train.Steps)
	}
	if lr := s.Train.LR; !(lr >= 0) || math.IsInf(lr, 0) {
		return specErrorf("train.lr = %g: the learning rate must be a finite number > 0 (e.g. --lr 1e-3), or 0 for the family's default", lr)
	}
	for _, b := range []struct {
		key string
		v   float64
	}{{"train.beta1", s.Train.Beta1}, {"train.beta2", s.Train.Beta2}} {
		if !(b.v >= 0 && b.v < 1) {
			return specErrorf("%s = %g: must be in [0, 1) (0: the family's default)", b.key, b.v)
		}
	}
	if s.Eval.Quality == 1 {
		return specErrorf("eval.quality = 1: FID needs at least 2 samples (e.g. 10000, or 0 for none)")
	}
	return nil
}

// checkParamsFinite refuses a non-finite hyperparameter value: the
// families' ranges ("> 0", ">= 0") are written for numbers, and "inf" or
// "nan" parse as floats.
func checkParamsFinite(family string, cfg variants.Config) error {
	vals := variants.Values(cfg)
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if f, ok := vals[k].(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return specErrorf("model %s: hyperparameter %s = %v: must be a finite number (see `vaexp models %s`)", family, k, f, family)
		}
	}
	return nil
}

// CheckData loads the spec's data and checks the spec against it (the
// batch fits in the training examples, the validation split in the training
// set, a --data-dir holds MNIST), as [Run] does before recording a run.
// The CLI calls it before it creates a database file, so that such a
// mistake leaves nothing behind. Errors are *SpecError but for a data set
// vaexp cannot find on its own.
func CheckData(spec Spec) error {
	r := &runner{spec: spec}
	if err := r.loadData(); err != nil {
		return err
	}
	_, err := r.checkData()
	return err
}

// checkData checks the spec against the loaded data, before the run is
// recorded, and returns the batch schedule: the batch must fit in the
// training examples.
func (r *runner) checkData() (*schedule, error) {
	sched, err := newSchedule(r.train_.len(), r.spec.Train.BatchSize, r.spec.Seed)
	if err != nil {
		return nil, &SpecError{Err: err}
	}
	return sched, nil
}

// dataDirError marks a data loading error as the caller's mistake when the
// caller chose the folder (--data-dir); without one, MNIST not being found
// is a failure of the installation.
func dataDirError(dir string, err error) error {
	if dir != "" {
		return &SpecError{Err: fmt.Errorf("--data-dir %q: %w", dir, err)}
	}
	return err
}
