package experiments

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
)

// qualityMeter scores generated samples by FID-LeNet and IS against MNIST's
// test set, with the classifier and the reference features computed once.
type qualityMeter struct {
	clf *eval.Classifier
	ref *eval.Reference
}

// newQualityMeter loads the cached classifier (training it on first use,
// about two and a half minutes on 2 cores) and the test set's features.
func newQualityMeter(backend compute.Backend) (*qualityMeter, error) {
	clf, _, err := eval.LoadClassifier(backend, eval.ClassifierOptions{})
	if err != nil {
		return nil, err
	}
	ref, err := eval.NewReference(clf, "test", 0)
	if err != nil {
		return nil, err
	}
	return &qualityMeter{clf: clf, ref: ref}, nil
}

// measure returns eval/fid and eval/is rows for samples.
func (q *qualityMeter) measure(samples [][]float32) ([]tracker.Evaluation, error) {
	vals, err := eval.SampleQuality(q.clf, q.ref, samples, []string{"fid", "is"}, eval.DefaultPRK)
	if err != nil {
		return nil, err
	}
	return EvaluationRows(vals), nil
}

// SampleQualityAtEnd computes FID-LeNet and IS of n samples of a model just
// trained (conditional families: labels cycling over classes), against
// MNIST's test set, as tracker rows with the same keys, versions and
// settings as `vaexp eval --metrics fid,is`.
func SampleQualityAtEnd(backend compute.Backend, store *model.Store, m vae.Model, classes, n int) ([]tracker.Evaluation, error) {
	q, err := newQualityMeter(backend)
	if err != nil {
		return nil, err
	}
	var samples [][]float32
	if err := catch(func() (err error) { samples, err = generate(backend, store, m, n, classes); return err }); err != nil {
		return nil, fmt.Errorf("sample quality: generate: %w", err)
	}
	return q.measure(samples)
}

// mnistLike reports whether the data suits the MNIST classifier's features.
func mnistLike(d vae.Data) bool {
	return d.Shape == vae.Shape{Height: 28, Width: 28, Channels: 1} && d.Classes == 10
}

// quality records FID-LeNet and IS of spec.Eval.Quality fixed-noise samples
// at step (each epoch's end and the run's end), so sample quality can be
// plotted against training steps. Data the classifier does not fit is
// skipped with one log line.
func (r *runner) quality(store *model.Store, m vae.Model, step int64) error {
	n := r.spec.Eval.Quality
	if n <= 0 {
		return nil
	}
	if !mnistLike(r.spec.DataInfo(r.desc)) {
		if !r.qualitySkipped {
			r.qualitySkipped = true
			r.logf("eval quality: skipped, FID-LeNet and IS need MNIST-like 28×28 digits and the data is %s %s", r.desc.Name, r.desc.Shape)
		}
		return nil
	}
	if r.meter == nil {
		r.logf("eval quality: loading the LeNet classifier and MNIST test features")
		var err error
		if r.meter, err = newQualityMeter(r.backend); err != nil {
			return fmt.Errorf("sample quality: %w", err)
		}
	}
	samples, err := generateFixed(r.backend, store, m, n, r.desc.Classes, r.fixedNoiseSeed()+step)
	if err != nil {
		return fmt.Errorf("sample quality: generate: %w", err)
	}
	rows, err := r.meter.measure(samples)
	if err != nil {
		return fmt.Errorf("sample quality: %w", err)
	}
	if err := r.rec.Flush(); err != nil {
		return err
	}
	if _, err := r.opts.DB.RecordEvaluations(r.rec.RunID(), step, rows); err != nil {
		return err
	}
	for _, row := range rows {
		r.logf("step %d: %s = %.4g", step, row.Key, row.Value)
	}
	return nil
}
