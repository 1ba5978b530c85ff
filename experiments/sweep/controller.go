package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"

	"github.com/vaexp/vaexp/tracker"
)

// DefaultWorkers is the number of workers a sweep starts unless told
// otherwise: one per core, each with one backend thread (pool.threads).
// Measured on 2 cores with `bench/sweep.sh split` (6 one-epoch MLP VAE
// trials, alternated): 2 workers × 1 thread took 58.5 s and 105.7 s where
// 1 worker × 2 threads took 123.8 s and 134.3 s (median ratio 1.69), under
// a load of ~30 from other jobs; small models leave a second backend
// thread little to do, a second trial a whole core.
func DefaultWorkers() int { return max(1, runtime.NumCPU()) }

// staleController is how long a controller on another host may go without
// a heartbeat before another one may take its sweep over.
const staleController = time.Minute

// Options are how a sweep is driven.
type Options struct {
	// DB holds the sweep and its runs (required).
	DB *tracker.DB
	// OutDir is the runs folder (default "runs"); workers' logs go to
	// OutDir/sweep-<id>/.
	OutDir string
	// Workers run trials in parallel (0: DefaultWorkers()).
	Workers int
	// Threads is each process worker's backend parallelism (0: the cores
	// divided among the workers); ignored when $GOMLX_BACKEND is set.
	Threads int
	// WorkerCommand starts a worker process: the argument list of a vaexp
	// command line up to `sweep worker` (e.g. [vaexp --db D --out O sweep
	// worker]); the sweep id and the worker's number are appended. Nil runs
	// the workers in this process (notebooks: there is no vaexp binary).
	WorkerCommand []string
	// Log gets one line per event (trial started, finished, pruned, …).
	Log io.Writer
	// Progress, if set, gets a progress bar instead of the event lines
	// (failures are still printed).
	Progress io.Writer
	// Command is recorded with the trials' runs.
	Command string
	// RetryFailed makes failed trials pending again when the sweep resumes.
	RetryFailed bool
	// Name overrides the spec's sweep name (Start only).
	Name string
	// Poll is how often the controller looks at the trials (default 250 ms).
	Poll time.Duration

	// runTrial replaces training in tests (a synthetic objective).
	runTrial trialFunc
}

// Result is how a sweep ended.
type Result struct {
	SweepID int64
	Name    string
	// State is finished, or stopped (interrupted: resume it).
	State string
	// Counts is the number of trials in each state.
	Counts map[string]int
	// Best is the best finished trial (nil if none finished).
	Best    *Best
	Elapsed time.Duration
}

// Create records the sweep and its trials in db, or returns the existing
// sweep of the same name and spec (created false).
func Create(db *tracker.DB, spec *Spec, name string) (tracker.Sweep, bool, error) {
	if name != "" {
		if !nameRE.MatchString(name) {
			return tracker.Sweep{}, false, fmt.Errorf("sweep name %q: use letters, digits, '.', '_' and '-'", name)
		}
		spec.Name = name
	}
	defs, err := spec.Expand()
	if err != nil {
		return tracker.Sweep{}, false, err
	}
	ns := tracker.NewSweep{Name: spec.Name, Method: spec.Method, Spec: spec.Text, Metric: spec.Metric, Direction: spec.Direction}
	for _, d := range defs {
		ns.Trials = append(ns.Trials, tracker.NewTrial{Index: d.Index, Config: d.Config, Seed: d.Seed, Budget: d.Budget})
	}
	return db.CreateSweep(ns)
}

// Start records a new sweep (or picks up the one of the same name and
// spec) and drives it to its end: see Resume.
func Start(ctx context.Context, spec *Spec, opts Options) (Result, error) {
	if opts.DB == nil {
		return Result{}, errors.New("sweep: no tracker database given")
	}
	sw, _, err := Create(opts.DB, spec, opts.Name)
	if err != nil {
		return Result{}, err
	}
	if sw.State == tracker.SweepFinished {
		return Result{SweepID: sw.ID, Name: sw.Name, State: sw.State, Counts: sw.Counts},
			fmt.Errorf("sweep %q (id %d) already finished; see `vaexp sweep status %d`, or give the spec another name: (or --name) to run it again",
				sw.Name, sw.ID, sw.ID)
	}
	return drive(ctx, sw, opts)
}

// Resume drives an existing sweep to its end: it takes the sweep (one
// controller at a time: a second gets tracker.ErrSweepBusy), makes trials
// held by dead workers pending again (their runs continue from their last
// checkpoint), starts the workers, promotes and prunes successive-halving
// trials, and reports progress. Cancelling ctx stops the workers cleanly
// (each trial keeps its checkpoint) and returns State stopped with the
// context's error; finished trials are never run again.
func Resume(ctx context.Context, sweepID int64, opts Options) (Result, error) {
	if opts.DB == nil {
		return Result{}, errors.New("sweep: no tracker database given")
	}
	sw, err := opts.DB.Sweep(sweepID)
	if err != nil {
		return Result{}, err
	}
	if sw.State == tracker.SweepFinished {
		return Result{SweepID: sw.ID, Name: sw.Name, State: sw.State, Counts: sw.Counts},
			fmt.Errorf("sweep %d (%s) already finished: every trial ended; see `vaexp sweep status %d`", sw.ID, sw.Name, sw.ID)
	}
	return drive(ctx, sw, opts)
}

// FromTracker re-reads a recorded sweep's spec.
func FromTracker(sw tracker.Sweep) (*Spec, error) {
	s, err := parse(sw.Name+".yaml", []byte(sw.Spec), false)
	if err != nil {
		return nil, fmt.Errorf("sweep %d: its recorded spec: %w", sw.ID, err)
	}
	s.Name, s.Metric, s.Direction = sw.Name, sw.Metric, sw.Direction
	return s, nil
}

func drive(ctx context.Context, sw tracker.Sweep, opts Options) (res Result, err error) {
	began := time.Now()
	db := opts.DB
	spec, err := FromTracker(sw)
	if err != nil {
		return Result{}, err
	}
	if opts.OutDir == "" {
		opts.OutDir = "runs"
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers()
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if err := db.AcquireSweep(sw.ID, staleController); err != nil {
		return Result{}, err // nothing was done: another controller holds it
	}
	res = Result{SweepID: sw.ID, Name: sw.Name, State: tracker.SweepStopped}
	finished := false
	defer func() {
		state := tracker.SweepStopped
		if finished {
			state = tracker.SweepFinished
		}
		if rerr := db.ReleaseSweep(sw.ID, state); rerr != nil && err == nil {
			err = rerr
		}
		if s, serr := db.Sweep(sw.ID); serr == nil {
			res.Counts = s.Counts
		}
		res.State = state
		res.Elapsed = time.Since(began)
		if b, berr := BestTrial(db, sw.ID, false); berr == nil {
			res.Best = &b
		}
	}()
	// Runs and trials left by processes that died (a killed controller or
	// worker) are marked and handed out again.
	if _, err := db.MarkStale(0); err != nil {
		return res, err
	}
	if _, err := db.ReleaseDeadClaims(sw.ID, false); err != nil {
		return res, err
	}
	if opts.RetryFailed {
		if _, err := db.RetryFailedTrials(sw.ID); err != nil {
			return res, err
		}
	}
	disp := newDisplay(opts.Log, opts.Progress, spec, sw)
	defer disp.close()

	pool := newPool(ctx, sw, spec, opts, disp)
	defer pool.stop()
	if err := pool.start(opts.Workers); err != nil {
		return res, err
	}
	lastBeat := time.Now()
	tick := time.NewTicker(opts.Poll)
	defer tick.Stop()
	for {
		trials, err := db.Trials(sw.ID)
		if err != nil {
			return res, err
		}
		if spec.Method == "halving" {
			changed, err := decide(db, sw.ID, spec, trials)
			if err != nil {
				return res, err
			}
			if changed {
				if trials, err = db.Trials(sw.ID); err != nil {
					return res, err
				}
			}
		}
		disp.update(trials)
		if allDone(trials) {
			finished = true
			return res, nil
		}
		if err := pool.reap(); err != nil {
			return res, err
		}
		if time.Since(lastBeat) > 5*time.Second {
			if err := db.SweepBeat(sw.ID); err != nil {
				return res, err
			}
			lastBeat = time.Now()
		}
		select {
		case <-ctx.Done():
			disp.notef("stopping: waiting for the workers to save their checkpoints")
			pool.stop()
			if _, err := db.ReleaseDeadClaims(sw.ID, false); err != nil {
				return res, err
			}
			if trials, err := db.Trials(sw.ID); err == nil {
				disp.update(trials)
			}
			return res, ctx.Err()
		case <-tick.C:
		case <-pool.exited:
		}
	}
}

// allDone reports whether every trial ended.
func allDone(trials []tracker.Trial) bool {
	for _, t := range trials {
		if !tracker.TrialDone(t.State) {
			return false
		}
	}
	return true
}

// decide applies successive halving's due promotions and prunings.
func decide(db *tracker.DB, sweepID int64, spec *Spec, trials []tracker.Trial) (bool, error) {
	rungs, err := db.Rungs(sweepID)
	if err != nil {
		return false, err
	}
	values := map[int]map[int]float64{}
	for _, r := range rungs {
		if values[r.Index] == nil {
			values[r.Index] = map[int]float64{}
		}
		values[r.Index][r.Rung] = r.Value
	}
	in := make([]RungTrial, len(trials))
	for i, t := range trials {
		in[i] = RungTrial{Index: t.Index, State: t.State, Rung: t.Rung, Values: values[t.Index]}
	}
	changed := false
	for _, d := range spec.Halving.Decide(in, spec.Direction != "max") {
		var ok bool
		if d.Promote {
			ok, err = db.PromoteTrial(sweepID, d.Index, d.Rung, d.Budget)
		} else {
			ok, err = db.PruneTrial(sweepID, d.Index, d.Rung)
		}
		if err != nil {
			return changed, err
		}
		changed = changed || ok
	}
	return changed, nil
}

// finite reports whether v is a number.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
