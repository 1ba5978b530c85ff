package experiments

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gomlx/compute"
	"go.yaml.in/yaml/v3"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/tracker"
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
	if opts.Resume != 0 {
		// A resumed run brings its own spec: nothing wrong with it is the
		// caller's usage mistake.
		defer func() { err = notSpecError(err) }()
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
		if runDir, err = runFolder(opts.DB, run); err != nil {
			return res, err
		}
		if spec, err = loadRunSpec(runDir, run.ID); err != nil {
			return res, err
		}
	}
	cfg, err := spec.Validate()
	if err != nil && opts.Resume != 0 {
		return res, fmt.Errorf("resume run %d: its recorded spec is not valid for this vaexp build: %s", opts.Resume, err.Error())
	}
	if err != nil {
		return res, err
	}
	r := &runner{spec: spec, opts: opts, cfg: cfg}
	// Everything that can fail on bad input happens before the run is recorded.
	if opts.Resume == 0 {
		if err := CheckOutDir(opts.OutDir); err != nil {
			return res, err
		}
	}
	if err := r.loadData(); err != nil {
		return res, err
	}
	if r.sched, err = r.checkData(); err != nil {
		return res, err
	}
	if r.backend, err = NewBackend(); err != nil {
		return res, err
	}
	if r.params, err = checkModelSize(r.backend, cfg, spec, spec.DataInfo(r.desc)); err != nil {
		return res, err
	}
	if ctx.Err() != nil {
		// A signal while the data loaded: stop before anything is recorded.
		return res, fmt.Errorf("interrupted before the run started; nothing was recorded: %w", ctx.Err())
	}
	if opts.Resume != 0 {
		// Atomic: of two resumes of one run, one claims it, the other is
		// told who holds it before it touches the run's folder.
		rec, err = opts.DB.ClaimRun(opts.Resume)
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
		if ferr := rec.Finish(status, err); ferr != nil {
			err = errors.Join(err, finishError(opts.DB, res.RunID, status, ferr))
		}
		r.logf("run %d %s", res.RunID, status)
		if r.logFile != nil {
			_ = r.logFile.Close()
		}
	}()
	if runDir == "" {
		if runDir, err = makeRunDir(opts.OutDir, rec.RunID()); err != nil {
			return res, err
		}
	}
	res.RunDir = runDir
	r.dir = runDir
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
	sched   *schedule

	desc              data.Description
	params            int64 // trainable parameters of the model
	train_, val, test *exampleSet

	// realSpread is the mean pairwise distance of real training examples,
	// the scale of samples/diversity (computed at the first sample grid).
	realSpread float64
	// peakDiversity is the highest samples/diversity so far (in this process).
	peakDiversity float64
	// flagged is set once the run is tagged as collapsed.
	flagged bool
	// meter scores sample quality (loaded at first use); qualitySkipped is
	// set once its skip for non-MNIST data is logged.
	meter          *qualityMeter
	qualitySkipped bool
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
