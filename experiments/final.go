package experiments

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/vae"
)

// The end of a run: test terms, the likelihood estimate, sample and
// reconstruction grids (strips and GIFs for sequences), and for sequences
// continuations, forecasts and per-step scores (sequences.go).

// finalEval evaluates on the test set and records sample and reconstruction grids.
func (r *runner) finalEval(store *model.Store, m vae.Model, eval *evaluator, res *Result) error {
	spec := r.spec
	step := int64(res.Steps)
	res.Metrics = map[string]float64{}
	// The evaluation, and above all the IWAE estimate, can take minutes: it
	// stops at a signal like training does. The last checkpoint holds the
	// trained weights, so a resume runs only the evaluation again.
	interrupted := func(err error) error {
		return fmt.Errorf("interrupted during the final evaluation (training is complete: --resume %d runs the evaluation again): %w", r.rec.RunID(), err)
	}
	test, err := eval.evaluate(r.test, spec.Eval.BatchSize, "binarize-test")
	if err := eval.ctx.Err(); err != nil {
		return interrupted(err)
	}
	if err != nil {
		return err
	}
	for k, v := range test {
		res.Metrics["test/"+k] = v
	}
	if r.paused && r.val != nil {
		// A paused run is compared at its stop, which need not be an epoch end.
		vals, err := eval.evaluate(r.val, spec.Eval.BatchSize, "binarize-val")
		if err := eval.ctx.Err(); err != nil {
			return interrupted(err)
		}
		if err != nil {
			return err
		}
		for k, v := range vals {
			res.Metrics["val/"+k] = v
		}
	}
	r.logf("test: %s", formatTerms(test))
	if spec.Eval.IWAEK > 0 {
		r.logf("test: estimating the log-likelihood with %d importance samples per example on %d examples", spec.Eval.IWAEK, r.test.len())
		ll, path, err := eval.logLikelihood(r.test, spec.Eval.IWAEK, spec.Eval.BatchSize, "binarize-test")
		if err := eval.ctx.Err(); err != nil {
			return interrupted(err)
		}
		if err != nil {
			return err
		}
		if path != "" {
			res.Metrics["test/iwae_nll"] = -ll
		}
	}
	r.rec.LogMetrics(step, res.Metrics)
	if res.MedianStep > 0 {
		// Speed, for comparing families and machines (this process's steps only).
		r.rec.LogMetrics(step, map[string]float64{
			"time/median_step_ms": float64(res.MedianStep.Microseconds()) / 1000,
			"time/train_seconds":  res.TrainTime.Seconds(),
		})
	}
	if err := r.samples(store, m, step); err != nil {
		return err
	}
	if err := r.quality(store, m, step); err != nil {
		return err
	}
	if rc, ok := m.(vae.Reconstructor); ok && spec.Eval.Samples > 0 {
		n := min(32, r.test.len())
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		b := r.test.batch(idx, "binarize-test", 0)
		originals := images(b.Inputs[0])
		recons, err := reconstruct(r.backend, store, rc, batchTensors{b.Inputs[0], b.Inputs[1]})
		if err != nil {
			return fmt.Errorf("reconstruct: %w", err)
		}
		if err := r.saveReconstructions(step, originals, recons); err != nil {
			return err
		}
	}
	if err := r.sequenceEval(store, m, step, res); err != nil {
		return err
	}
	return r.rec.Flush()
}

// saveGrid writes an image grid to the run folder and the tracker.
func (r *runner) saveGrid(name string, step int64, imgs, recons [][]float32) error {
	sh, classes := r.desc.Shape, r.desc.Classes
	var png []byte
	var err error
	opt := plots.GridOptions{Scale: 2}
	if recons == nil {
		// Conditional families generate labels 0, 1, 2, … cycling: with one
		// column per class every column shows one digit.
		cols := 8
		if classes > 1 {
			cols = classes
		}
		img, gerr := plots.ImageGrid(imgs, sh.Height, sh.Width, cols, opt)
		if gerr != nil {
			return gerr
		}
		png, err = plots.EncodePNG(img)
	} else {
		img, gerr := plots.ReconstructionGrid(imgs, recons, sh.Height, sh.Width, 8, opt)
		if gerr != nil {
			return gerr
		}
		png, err = plots.EncodePNG(img)
	}
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(r.dir, name), png, 0o644); err != nil {
		return err
	}
	return r.rec.LogArtifact(name, step, "image/png", png)
}
