package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/tracker"
)

// WorkerOptions are how a worker runs its trials.
type WorkerOptions struct {
	// OutDir is the runs folder (default "runs").
	OutDir string
	// Log gets the runs' event lines (nil: none).
	Log io.Writer
	// Command is recorded with the runs.
	Command string
	// Poll is how often an idle worker looks for a trial (default 250 ms).
	Poll time.Duration

	runTrial trialFunc
}

// trialFunc runs one claimed trial and says how it ended.
type trialFunc func(ctx context.Context, db *tracker.DB, spec *Spec, t tracker.Trial, opts WorkerOptions) tracker.TrialResult

// Work claims trials of the sweep one at a time and runs each through
// experiments.Run, until none is left to claim and none can become
// claimable (successive halving waits for promotions), the sweep stops
// being run by a controller, or ctx ends (the current trial keeps its
// checkpoint and goes back to pending).
func Work(ctx context.Context, db *tracker.DB, sweepID int64, opts WorkerOptions) error {
	sw, err := db.Sweep(sweepID)
	if err != nil {
		return err
	}
	spec, err := FromTracker(sw)
	if err != nil {
		return err
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	run := opts.runTrial
	if run == nil {
		run = runTrial
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		t, ok, err := db.ClaimTrial(sweepID, -1)
		if err != nil {
			return err
		}
		if !ok {
			s, err := db.Sweep(sweepID)
			if err != nil {
				return err
			}
			open := s.Trials - s.Counts[tracker.TrialFinished] - s.Counts[tracker.TrialPruned] - s.Counts[tracker.TrialFailed]
			if s.State != tracker.SweepRunning || open == 0 {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(opts.Poll):
			}
			continue
		}
		res := run(ctx, db, spec, t, opts)
		if err := db.EndTrial(sweepID, t.Index, res); err != nil {
			return err
		}
		if res.State == tracker.TrialPending && ctx.Err() == nil {
			// Handed back (its run still belongs to a live process): do not
			// spin on it.
			select {
			case <-ctx.Done():
			case <-time.After(4 * opts.Poll):
			}
		}
	}
}

// RunTrial runs exactly trial index of the sweep the spec describes, in
// db (creating the sweep there if it is new): what one task of a Slurm job
// array or Kubernetes Indexed Job does. A trial already finished is not run
// again (ok false, with its state). Successive halving needs one
// controller deciding every rung, so it is refused here.
func RunTrial(ctx context.Context, db *tracker.DB, spec *Spec, name string, index int, opts WorkerOptions) (tracker.Trial, bool, error) {
	if spec.Method == "halving" {
		return tracker.Trial{}, false, errors.New("method halving needs one controller deciding every rung: run it with `vaexp sweep run`; " +
			"sweep trial (job arrays) runs grid and random sweeps")
	}
	sw, _, err := Create(db, spec, name)
	if err != nil {
		return tracker.Trial{}, false, err
	}
	if index < 0 || index >= sw.Trials {
		return tracker.Trial{}, false, fmt.Errorf("--index %d: sweep %s has trials 0 to %d", index, sw.Name, sw.Trials-1)
	}
	if _, err := db.MarkStale(0); err != nil {
		return tracker.Trial{}, false, err
	}
	t, ok, err := db.ClaimTrial(sw.ID, index)
	if err != nil || !ok {
		return t, false, err
	}
	run := opts.runTrial
	if run == nil {
		run = runTrial
	}
	spec, err = FromTracker(sw)
	if err != nil {
		return t, false, err
	}
	res := run(ctx, db, spec, t, opts)
	if err := db.EndTrial(sw.ID, index, res); err != nil {
		return t, true, err
	}
	t, err = db.Trial(sw.ID, index)
	if err == nil && res.State != tracker.TrialFinished {
		err = fmt.Errorf("trial %d %s: %s", index, res.State, res.Error)
	}
	return t, true, err
}

// runTrial runs one claimed trial through experiments.Run: a new run, or
// the trial's run continued from its checkpoint. Halving trials below the
// top rung stop at their rung's budget (paused, run status pruned).
func runTrial(ctx context.Context, db *tracker.DB, spec *Spec, t tracker.Trial, opts WorkerOptions) tracker.TrialResult {
	fail := func(err error) tracker.TrialResult {
		return tracker.TrialResult{State: tracker.TrialFailed, Value: nan(), Error: err.Error()}
	}
	rs, err := spec.TrialSpec(TrialDef{Index: t.Index, Config: t.Config, Seed: t.Seed})
	if err != nil {
		return fail(err)
	}
	ro := experiments.Options{DB: db, OutDir: opts.OutDir, Log: opts.Log, Command: opts.Command, Sweep: spec.Name,
		OnStart: func(id int64) {
			if err := db.LinkTrialRun(t.SweepID, t.Index, id); err != nil && opts.Log != nil {
				fmt.Fprintf(opts.Log, "trial %d: %v\n", t.Index, err)
			}
		}}
	top := true
	if spec.Method == "halving" {
		budgets := spec.Halving.Budgets()
		if t.Rung < len(budgets)-1 {
			top = false
			if spec.Halving.Unit == "steps" {
				ro.StopAtStep = t.Budget
			} else {
				ro.StopAtEpoch = t.Budget
			}
		}
	}
	if t.RunID != 0 {
		run, err := db.Run(t.RunID)
		if err == nil && run.Status == tracker.StatusRunning {
			// Its worker was killed outright: the run is marked killed (its
			// process is gone) and continues below from its checkpoint.
			if _, err := db.MarkStale(0); err != nil {
				return fail(err)
			}
			run, err = db.Run(t.RunID)
		}
		switch {
		case errors.Is(err, tracker.ErrNotFound):
			// Deleted meanwhile: start the trial over.
		case err != nil:
			return fail(err)
		case run.Status == tracker.StatusFinished:
			// Its process finished the run but died before recording the
			// trial: record it, never train it again.
			v, step, err := db.MetricValue(run.ID, spec.Metric)
			if err != nil {
				return fail(err)
			}
			return tracker.TrialResult{State: tracker.TrialFinished, Value: v, Step: step}
		case run.Status == tracker.StatusRunning:
			return tracker.TrialResult{State: tracker.TrialPending, Value: nan(),
				Error: fmt.Sprintf("run %d is still running (pid %d on %s); the trial waits for it", run.ID, run.PID, run.Host)}
		default:
			ro.Resume = run.ID
		}
	}
	res, runErr := experiments.Run(ctx, rs, ro)
	if res.RunID == 0 {
		if runErr == nil {
			runErr = errors.New("no run was recorded")
		}
		if ctx.Err() != nil {
			return tracker.TrialResult{State: tracker.TrialPending, Value: nan(), Error: runErr.Error()}
		}
		return fail(runErr)
	}
	v, _, err := db.MetricValue(res.RunID, spec.Metric)
	if err != nil {
		return fail(err)
	}
	out := tracker.TrialResult{Value: v, Step: int64(res.Steps)}
	switch res.Status {
	case tracker.StatusFinished:
		out.State = tracker.TrialFinished
		if !top {
			out.State = tracker.TrialPaused
		}
	case tracker.StatusPruned:
		out.State = tracker.TrialPaused
	case tracker.StatusKilled:
		out.State, out.Error = tracker.TrialPending, "interrupted; continues from its checkpoint"
	default:
		out.State = tracker.TrialFailed
		if runErr != nil {
			out.Error = runErr.Error()
		}
	}
	return out
}

func nan() float64 { return math.NaN() }
