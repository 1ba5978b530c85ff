package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"go.yaml.in/yaml/v3"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// Options are how a run is driven, as opposed to what it is (the [Spec]).
type Options struct {
	// DB records the run (required).
	DB *tracker.DB
	// OutDir holds one folder per run (checkpoints, log, spec, images); default "runs".
	OutDir string
	// Resume continues the run with this id from its last checkpoint (the spec is read from its folder).
	Resume int64
	// Progress receives a progress bar (nil: none).
	Progress io.Writer
	// Log receives one line per event (nil: none); the run's folder always gets run.log.
	Log io.Writer
	// Stall is the watchdog policy; zero means DefaultStallPolicy.
	Stall StallPolicy
	// OnStep is called after every step with the step's terms (for live plots); it must be quick.
	OnStep func(step int, terms map[string]float64)
	// Command is recorded with the run (the CLI's argv).
	Command string
	// Sweep names the sweep this run is a trial of (recorded as runs.sweep).
	Sweep string
	// OnStart, if set, gets the run's id as soon as the run is recorded,
	// before training (a sweep links its trial to the run there).
	OnStart func(runID int64)
	// StopAtStep (or StopAtEpoch, in epochs), when short of the spec's
	// budget, pauses the run at that global step: it saves a checkpoint,
	// evaluates (test, and validation when the spec has it) as a finished
	// run would, and ends with status pruned. Resuming it with a larger stop,
	// or none, continues from there. Successive halving uses it for rungs.
	StopAtStep, StopAtEpoch int

	// stallAt injects a stall (tests): step stallAt sleeps stallFor before running.
	stallAt  int
	stallFor time.Duration
}

// Result is what a finished run reports.
type Result struct {
	RunID  int64
	RunDir string
	Status string
	// Steps is the global step reached.
	Steps int
	// Metrics holds the final values: "test/<term>", "val/<term>", "test/iwae_nll".
	Metrics map[string]float64
	// MedianStep is the median training step time of this process.
	MedianStep time.Duration
	// TrainTime is the wall time of this process's training loop (steps,
	// batching, recording, checkpoints and per-epoch validation; not data
	// loading, compilation of evaluation graphs or the final evaluation).
	TrainTime time.Duration
}

// ErrStalled is returned when the watchdog found a step hung.
var ErrStalled = errors.New("run stalled")

// Run trains spec's model, recording everything in opts.DB, and returns the
// final metrics. It is the only way vaexp trains: the CLI, sweeps and
// notebooks all call it. A bad spec is an error before anything is written.
func Run(ctx context.Context, spec Spec, opts Options) (res Result, err error) {
	if opts.DB == nil {
		return res, errors.New("run: no tracker database given")
	}
	if opts.OutDir == "" {
		opts.OutDir = "runs"
	}
	if opts.Stall == (StallPolicy{}) {
		opts.Stall = DefaultStallPolicy
	}
	var rec *tracker.Recorder
	var runDir string
	if opts.Resume != 0 {
		run, err := opts.DB.Run(opts.Resume)
		if err != nil {
			return res, err
		}
		if run.Status == "finished" {
			return res, fmt.Errorf("run %d already finished; start a new run instead of --resume", run.ID)
		}
		runDir = run.RunDir
		if spec, err = LoadSpec(filepath.Join(runDir, "spec.yaml")); err != nil {
			return res, fmt.Errorf("resume run %d: %w", run.ID, err)
		}
	}
	cfg, err := spec.Validate()
	if err != nil {
		return res, err
	}
	r := &runner{spec: spec, opts: opts, cfg: cfg}
	// Everything that can fail on bad input happens before the run is recorded.
	if err := r.loadData(); err != nil {
		return res, err
	}
	if r.backend, err = NewBackend(); err != nil {
		return res, err
	}
	if opts.Resume != 0 {
		rec, err = opts.DB.ResumeRun(opts.Resume)
	} else {
		rec, err = opts.DB.StartRun(tracker.RunInfo{
			Experiment: spec.Experiment, Name: spec.Name, Family: spec.Family, Seed: spec.Seed,
			Backend: r.backend.Name(), Command: opts.Command, GitCommit: gitCommit(), Host: hostname(),
			Params: spec.Values(cfg), Sweep: opts.Sweep,
		})
	}
	if err != nil {
		return res, err
	}
	r.rec = rec
	res.RunID = rec.RunID()
	if opts.OnStart != nil {
		opts.OnStart(res.RunID)
	}
	if runDir == "" {
		runDir = freshRunDir(opts.OutDir, rec.RunID())
	}
	res.RunDir = runDir
	r.dir = runDir
	defer func() {
		status := "finished"
		switch {
		case errors.Is(err, ErrStalled):
			status = "stalled"
		case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
			status = "killed"
		case err != nil:
			status = "failed"
		case r.paused:
			status = tracker.StatusPruned
		}
		res.Status = status
		if ferr := rec.Finish(status, err); ferr != nil && err == nil {
			err = ferr
		}
		r.logf("run %d %s", res.RunID, status)
		if r.logFile != nil {
			_ = r.logFile.Close()
		}
	}()
	if err := r.prepareDir(); err != nil {
		return res, err
	}
	for k, v := range spec.Tags {
		if err := rec.SetTag(k, v); err != nil {
			return res, err
		}
	}
	if warn := SIMDWarning(); warn != "" && r.logFile != nil {
		// The CLI warns at start-up; the run's own log records it too.
		fmt.Fprintln(r.logFile, warn)
	}
	err = catch(func() error { return r.train(ctx, &res) })
	var pe *panicError
	if errors.As(err, &pe) {
		r.logf("panic: %v\n%s", pe.Value, pe.Stack)
	}
	return res, err
}

// freshRunDir is the folder for a new run: <out>/<id>, or <out>/<id>-2, -3, …
// when a folder of that name is left from another database, so that a new
// run never picks up (or overwrites) another run's checkpoints.
func freshRunDir(out string, id int64) string {
	dir := filepath.Join(out, fmt.Sprint(id))
	for n := 2; ; n++ {
		if _, err := os.Stat(dir); os.IsNotExist(err) {
			return dir
		}
		dir = filepath.Join(out, fmt.Sprintf("%d-%d", id, n))
	}
}

// runner holds one run's state.
type runner struct {
	spec    Spec
	opts    Options
	cfg     variants.Config
	backend compute.Backend
	rec     *tracker.Recorder
	dir     string
	logFile *os.File
	logMu   sync.Mutex

	train_, val, test *imageSet
	// paused: the run stopped at Options.StopAtStep/StopAtEpoch.
	paused bool
}

func (r *runner) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.logMu.Lock()
	defer r.logMu.Unlock()
	if r.opts.Log != nil {
		fmt.Fprintln(r.opts.Log, line)
	}
	if r.logFile != nil {
		fmt.Fprintf(r.logFile, "%s %s\n", time.Now().Format(time.RFC3339), line)
	}
}

func (r *runner) loadData() error {
	d := r.spec.Data
	trainIm, err := data.LoadMNIST(d.Dir, "train")
	if err != nil {
		return err
	}
	testIm, err := data.LoadMNIST(d.Dir, "test")
	if err != nil {
		return err
	}
	trainIm, valIm, err := data.SplitValidation(trainIm, d.Val, r.spec.Seed)
	if err != nil {
		return err
	}
	if d.Limit > 0 && d.Limit < trainIm.N {
		trainIm = trainIm.Head(d.Limit)
	}
	if d.TestLimit > 0 && d.TestLimit < testIm.N {
		testIm = testIm.Head(d.TestLimit)
	}
	binarize := d.Binarize
	if binarize == "static" {
		trainIm, testIm = data.StaticBinarize(trainIm, r.spec.Seed), data.StaticBinarize(testIm, r.spec.Seed+1)
		if valIm != nil {
			valIm = data.StaticBinarize(valIm, r.spec.Seed+2)
		}
		binarize = "none"
	}
	mk := func(im *data.Images) *imageSet {
		if im == nil {
			return nil
		}
		return &imageSet{im: im, binarize: binarize, seed: r.spec.Seed, shape: r.spec.Shape()}
	}
	r.train_, r.val, r.test = mk(trainIm), mk(valIm), mk(testIm)
	return nil
}

func (r *runner) prepareDir() error {
	if err := os.MkdirAll(filepath.Join(r.dir, "checkpoint"), 0o755); err != nil {
		return fmt.Errorf("run folder: %w (set --out to a writable folder)", err)
	}
	f, err := os.OpenFile(filepath.Join(r.dir, "run.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("run log: %w", err)
	}
	r.logFile = f
	if r.opts.Resume == 0 {
		raw, err := yaml.Marshal(r.spec)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(r.dir, "spec.yaml"), raw, 0o644); err != nil {
			return fmt.Errorf("write spec: %w", err)
		}
	}
	return r.rec.SetRunDir(r.dir)
}

// train builds the model, restores the checkpoint if any, and runs the loop.
func (r *runner) train(ctx context.Context, res *Result) error {
	spec := r.spec
	m := r.cfg.Build(spec.Shape())
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
	ckpt, err := checkpoint.Build(store).Dir(ckptDir).Keep(2).Done()
	if err != nil {
		return fmt.Errorf("checkpoint in %s: %w", r.dir, err)
	}

	trainer, names := newTrainer(r.backend, store, m, spec.Family, spec.Train.LR)

	sched, err := newSchedule(r.train_.im.N, spec.Train.BatchSize, spec.Seed)
	if err != nil {
		return err
	}
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
	r.logf("run %d: %s on %d training examples, %d steps of %d (%d per epoch), backend %s, folder %s",
		r.rec.RunID(), spec.Family, r.train_.im.N, total, spec.Train.BatchSize, sched.stepsPerEpoch, r.backend.Name(), r.dir)

	eval := newEvaluator(r.backend, store, m)
	loopStart := time.Now()
	loopErr := r.loop(ctx, trainer, names, ckpt, sched, eval, start, total, res)
	res.TrainTime = time.Since(loopStart)
	res.Steps = int(optimizer.GetGlobalStep(store))
	if loopErr != nil {
		return loopErr
	}
	return r.finalEval(store, m, eval, res)
}

// loop runs steps [start, total): record terms, check them, checkpoint,
// validate each epoch, watch for stalls.
func (r *runner) loop(ctx context.Context, trainer *train.Trainer, names *[]string, ckpt *checkpoint.Handler, sched *schedule,
	eval *evaluator, start, total int, res *Result) error {
	spec := r.spec
	logEvery := max(spec.Train.LogEvery, 1)
	done := make(chan struct{})
	defer close(done)
	batches := prefetch(r.train_, sched, start, total, done)
	bar := newProgress(r.opts.Progress, start, total, sched.stepsPerEpoch)
	defer bar.finish()
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
			if err := ckpt.Save(); err != nil {
				return fmt.Errorf("save checkpoint on interrupt: %w", err)
			}
			return fmt.Errorf("interrupted at step %d (resume with --resume %d): %w", step, r.rec.RunID(), ctx.Err())
		}
		batch := <-batches
		began := time.Now()
		go func(step int) {
			if r.opts.stallAt > 0 && step == r.opts.stallAt {
				time.Sleep(r.opts.stallFor)
			}
			var out stepOut
			out.err = catch(func() (err error) { out.metrics, err = trainer.TrainStep(batch); return err })
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
		terms := readTerms(out.metrics, *names) // filled when the first step built the graph
		gstep := step + 1
		if bad := nonFinite(terms); bad != "" {
			return fmt.Errorf("loss is not finite at step %d (%s); lower --lr or check the data; the last checkpoint is kept, resume with --resume %d",
				gstep, bad, r.rec.RunID())
		}
		if gstep%logEvery == 0 || gstep == total {
			r.rec.LogMetrics(int64(gstep), prefixed("train/", terms))
		}
		if r.opts.OnStep != nil {
			r.opts.OnStep(gstep, terms)
		}
		bar.step(gstep, terms)
		epochEnd := gstep%sched.stepsPerEpoch == 0
		if epochEnd && r.val != nil {
			vals, err := eval.evaluate(r.val, spec.Eval.BatchSize, "binarize-val")
			if err != nil {
				return err
			}
			r.rec.LogMetrics(int64(gstep), prefixed("val/", vals))
			r.logf("epoch %d: val %s", gstep/sched.stepsPerEpoch, formatTerms(vals))
		} else if epochEnd {
			r.logf("epoch %d: train %s", gstep/sched.stepsPerEpoch, formatTerms(terms))
		}
		every := spec.Train.CheckpointEvery
		if epochEnd || (every > 0 && gstep%every == 0) || time.Since(lastSave) > 5*time.Minute || gstep == total {
			if err := ckpt.Save(); err != nil {
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

// finalEval evaluates on the test set and records sample and reconstruction grids.
func (r *runner) finalEval(store *model.Store, m vae.Model, eval *evaluator, res *Result) error {
	spec := r.spec
	step := int64(res.Steps)
	res.Metrics = map[string]float64{}
	test, err := eval.evaluate(r.test, spec.Eval.BatchSize, "binarize-test")
	if err != nil {
		return err
	}
	for k, v := range test {
		res.Metrics["test/"+k] = v
	}
	if r.paused && r.val != nil {
		// A paused run is compared at its stop, which need not be an epoch end.
		vals, err := eval.evaluate(r.val, spec.Eval.BatchSize, "binarize-val")
		if err != nil {
			return err
		}
		for k, v := range vals {
			res.Metrics["val/"+k] = v
		}
	}
	if spec.Eval.IWAEK > 0 {
		ll, ok, err := eval.logLikelihood(r.test, spec.Eval.IWAEK, spec.Eval.BatchSize, "binarize-test")
		if err != nil {
			return err
		}
		if ok {
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
	r.logf("test: %s", formatTerms(test))
	if spec.Eval.Samples > 0 {
		imgs, err := generate(r.backend, store, m, spec.Eval.Samples, spec.Shape().Classes)
		if err != nil {
			return fmt.Errorf("generate samples: %w", err)
		}
		if err := r.saveGrid("samples.png", step, imgs, nil); err != nil {
			return err
		}
		n := min(32, r.test.im.N)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		b := r.test.batch(idx, "binarize-test", 0)
		originals := images(b.Inputs[0])
		recons, err := reconstruct(r.backend, store, m, batchTensors{b.Inputs[0], b.Inputs[1]})
		if err != nil {
			return fmt.Errorf("reconstruct: %w", err)
		}
		if err := r.saveGrid("reconstructions.png", step, originals, recons); err != nil {
			return err
		}
	}
	return r.rec.Flush()
}

// saveGrid writes an image grid to the run folder and the tracker.
func (r *runner) saveGrid(name string, step int64, imgs, recons [][]float32) error {
	sh := r.spec.Shape()
	var png []byte
	var err error
	opt := plots.GridOptions{Scale: 2}
	if recons == nil {
		// Conditional families generate labels 0, 1, 2, … cycling: with one
		// column per class every column shows one digit.
		cols := 8
		if sh.Classes > 1 {
			cols = sh.Classes
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

func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
