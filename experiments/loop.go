package experiments

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vaexp/vaexp/vae"
)

// The training side of a run: the model built and restored, then the one
// loop every family trains in (record, check, checkpoint, validate, sample,
// watch for stalls).

// train builds the model, restores the checkpoint if any, and runs the loop.
func (r *runner) train(ctx context.Context, res *Result) error {
	spec := r.spec
	m := r.cfg.Build(spec.DataInfo(r.desc))
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(spec.Seed); err != nil {
		return err
	}
	ckptDir := filepath.Join(r.dir, "checkpoint")
	dropped, err := dropIncompleteCheckpoints(ckptDir)
	if err != nil {
		return fmt.Errorf("checkpoint folder %s: %w", ckptDir, err)
	}
	for _, d := range dropped {
		r.logf("dropped checkpoint %s: its save was interrupted", d)
	}
	ckpt, moved, err := openCheckpoints(store, ckptDir, 2)
	for _, m := range moved {
		r.logf("moved damaged checkpoint %s into %s; trying the one before", m, filepath.Join(ckptDir, damagedDir))
	}
	if err != nil {
		return fmt.Errorf("checkpoint in %s: %w", r.dir, err)
	}

	steps := newStepper(r.backend, store, m, spec.Family, spec.Training(r.cfg))

	sched := r.sched
	steps.setEpochLength(sched.stepsPerEpoch)
	total := spec.Train.Steps
	if total <= 0 {
		total = spec.Train.Epochs * sched.stepsPerEpoch
	}
	if stop := max(r.opts.StopAtStep, r.opts.StopAtEpoch*sched.stepsPerEpoch); stop > 0 && stop < total {
		total, r.paused = stop, true
	}
	start := int(optimizer.GetGlobalStep(store))
	if start > 0 {
		r.logf("resuming run %d from step %d (checkpoint)", r.rec.RunID(), start)
		if err := r.rec.DeleteMetricsAfter(int64(start)); err != nil {
			return err
		}
	} else if r.opts.Resume != 0 {
		r.logf("resuming run %d: no checkpoint yet, starting over", r.rec.RunID())
		if err := r.rec.DeleteMetricsAfter(0); err != nil {
			return err
		}
	}
	r.logf("run %d: %s (%s parameters) on %d training examples, %d steps of %d (%d per epoch), backend %s, folder %s",
		r.rec.RunID(), spec.Family, humanCount(r.params), r.train_.len(), total, spec.Train.BatchSize, sched.stepsPerEpoch, r.backend.Name(), r.dir)

	eval := newEvaluator(ctx, r.backend, store, m)
	loopStart := time.Now()
	loopErr := r.loop(ctx, steps, store, m, ckpt, sched, eval, start, total, res)
	res.TrainTime = time.Since(loopStart)
	res.Steps = int(optimizer.GetGlobalStep(store))
	if loopErr != nil {
		return loopErr
	}
	return r.finalEval(store, m, eval, res)
}

// loop runs steps [start, total): record terms, check them, checkpoint,
// validate each epoch, watch for stalls.
func (r *runner) loop(ctx context.Context, steps *stepper, store *model.Store, m vae.Model, ckpt *checkpoint.Handler, sched *schedule,
	eval *evaluator, start, total int, res *Result) error {
	spec := r.spec
	logEvery := max(spec.Train.LogEvery, 1)
	done := make(chan struct{})
	defer close(done)
	batches := prefetch(r.train_, sched, start, total, done)
	bar := newProgress(r.opts.Progress, start, total, sched.stepsPerEpoch)
	defer bar.finish()
	alarms := newAlarmWatch(r.spec.Training(r.cfg).Alarms)
	dog := newWatchdog(r.opts.Stall)
	go dog.run()
	defer dog.close()

	type stepOut struct {
		metrics []*tensors.Tensor
		err     error
	}
	results := make(chan stepOut, 1)
	lastSave := time.Now()
	var durations []time.Duration
	for step := start; step < total; step++ {
		if ctx.Err() != nil {
			// Interrupted between steps: everything up to here is recorded; save it.
			return r.interrupted(ckpt, step, ctx.Err())
		}
		batch := <-batches
		began := time.Now()
		go func(step int) {
			if r.opts.stallAt > 0 && step == r.opts.stallAt {
				time.Sleep(r.opts.stallFor)
			}
			var out stepOut
			out.err = catch(func() (err error) { out.metrics, err = steps.trainStep(step, batch); return err })
			results <- out
		}(step)
		// A step is short: an interrupt waits for it and is handled at the top
		// of the next iteration; only the watchdog abandons a running step.
		var out stepOut
		select {
		case out = <-results:
		case <-dog.fired:
			return r.stalled(step, dog.waited)
		}
		if out.err != nil {
			return fmt.Errorf("step %d: %w", step+1, out.err)
		}
		d := time.Since(began)
		dog.stepDone(d)
		durations = append(durations, d)
		terms := readTerms(out.metrics, *steps.names) // filled when the first step built the graph
		gstep := step + 1
		if bad := nonFinite(terms); bad != "" {
			// No resume advice: a resumed run keeps its learning rate and
			// replays the same steps bit for bit, into the same NaN.
			return fmt.Errorf("loss is not finite at step %d (%s); start a new run with a lower --lr (now %g) or check the data",
				gstep, bad, spec.Training(r.cfg).LR)
		}
		if gstep%logEvery == 0 || gstep == total {
			r.rec.LogMetrics(int64(gstep), prefixed("train/", terms))
		}
		for _, fired := range alarms.observe(gstep, terms) {
			r.flag(int64(gstep), fired)
		}
		if r.opts.OnStep != nil {
			r.opts.OnStep(gstep, terms)
		}
		bar.step(gstep, terms)
		epochEnd := gstep%sched.stepsPerEpoch == 0
		if epochEnd && r.val != nil {
			vals, err := eval.evaluate(r.val, spec.Eval.BatchSize, "binarize-val")
			if ctx.Err() != nil {
				// Interrupted while validating: keep this step's weights.
				return r.interrupted(ckpt, gstep, ctx.Err())
			}
			if err != nil {
				return err
			}
			r.rec.LogMetrics(int64(gstep), prefixed("val/", vals))
			r.logf("epoch %d: val %s", gstep/sched.stepsPerEpoch, formatTerms(vals))
		} else if epochEnd {
			r.logf("epoch %d: train %s", gstep/sched.stepsPerEpoch, formatTerms(terms))
		}
		if epochEnd && gstep != total {
			// The final grid is drawn by finalEval.
			if err := r.samples(store, m, int64(gstep)); err != nil {
				return err
			}
			if err := r.quality(store, m, int64(gstep)); err != nil {
				return err
			}
		}
		every := spec.Train.CheckpointEvery
		if epochEnd || (every > 0 && gstep%every == 0) || time.Since(lastSave) > 5*time.Minute || gstep == total {
			if err := saveCheckpoint(ckpt, ckpt.Dir()); err != nil {
				return fmt.Errorf("save checkpoint: %w", err)
			}
			lastSave = time.Now()
			if err := r.rec.Heartbeat(); err != nil {
				return err
			}
		}
	}
	res.MedianStep = median(durations)
	return nil
}

// interrupted saves a checkpoint at step (everything up to it is recorded)
// and returns the error that marks the run killed.
func (r *runner) interrupted(ckpt *checkpoint.Handler, step int, cause error) error {
	if err := saveCheckpoint(ckpt, ckpt.Dir()); err != nil {
		return fmt.Errorf("save checkpoint on interrupt: %w", err)
	}
	return fmt.Errorf("interrupted at step %d (resume with --resume %d): %w", step, r.rec.RunID(), cause)
}

// stalled records a hung step: goroutines to the run log, status stalled.
func (r *runner) stalled(step int, waited time.Duration) error {
	r.logf("STALL: step %d has not finished after %s; goroutine dump follows; the run is resumable from its last checkpoint (--resume %d)",
		step+1, waited.Round(time.Millisecond), r.rec.RunID())
	r.logMu.Lock()
	if r.logFile != nil {
		_ = pprof.Lookup("goroutine").WriteTo(r.logFile, 2)
	}
	r.logMu.Unlock()
	return fmt.Errorf("%w: step %d did not finish after %s (goroutines dumped to %s)",
		ErrStalled, step+1, waited.Round(time.Millisecond), filepath.Join(r.dir, "run.log"))
}

// readTerms reads the trainer's outputs, [loss, moving-average loss, one
// scalar per output slot], into the named terms, and frees them.
func readTerms(metrics []*tensors.Tensor, names []string) map[string]float64 {
	defer func() {
		for _, t := range metrics {
			_ = t.FinalizeAll()
		}
	}()
	out := make(map[string]float64, len(names))
	for i, n := range names {
		out[n] = float64(tensors.ToScalar[float32](metrics[2+i]))
	}
	return out
}

// median is the middle of ds (upper middle for an even count), 0 for none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func prefixed(prefix string, m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[prefix+k] = v
	}
	return out
}

func nonFinite(m map[string]float64) string {
	for _, k := range sortedKeys(m) {
		if math.IsNaN(m[k]) || math.IsInf(m[k], 0) {
			return fmt.Sprintf("%s=%v", k, m[k])
		}
	}
	return ""
}

func formatTerms(m map[string]float64) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s=%.4g", k, m[k]))
	}
	return strings.Join(parts, " ")
}
