package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments/sweep"
	"github.com/vaexp/vaexp/tracker"
)

func newSweepCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "sweep",
		Short: "Hyperparameter sweeps: grid, random, successive halving; parallel, resumable, on job arrays",
		Long: "A sweep spec is a run spec (the keys of `vaexp train --spec`) plus the sweep's own keys:\n" +
			"method (grid, random, halving), space, seeds, metric, direction, trials, sampler_seed and\n" +
			"halving. Every trial is an ordinary run, recorded in the tracker and linked to its sweep\n" +
			"(filter runs with \"sweep = 'NAME'\"). Examples: experiments/sweeps/*.yaml.\n\n" +
			"SWEEP is a sweep id, its name, or last.",
		Args: groupArgs,
		RunE: groupRun,
	}
	c.AddCommand(newSweepRunCmd(a), newSweepResumeCmd(a), newSweepListCmd(a), newSweepStatusCmd(a), newSweepBestCmd(a),
		newSweepTrialCmd(a), newSweepEmitCmd(), newSweepPlotCmd(a), newSweepWorkerCmd(a))
	return c
}

// driveFlags are the flags of `sweep run` and `sweep resume`.
type driveFlags struct {
	workers, threads int
	inProcess, quiet bool
}

func (f *driveFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.IntVarP(&f.workers, "workers", "w", sweep.DefaultWorkers(), "trials run at once, each in its own worker process")
	fl.IntVar(&f.threads, "threads", 0, "backend threads per worker (default: the cores divided among the workers; $GOMLX_BACKEND overrides)")
	fl.BoolVar(&f.inProcess, "in-process", false, "run the workers as goroutines of this process instead of processes")
	fl.BoolVar(&f.quiet, "quiet", false, "one line per event even on a terminal (no progress bar)")
}

func (f *driveFlags) check() error {
	if f.workers < 1 {
		return usagef("--workers %d: run at least 1 worker", f.workers)
	}
	if f.threads < 0 {
		return usagef("--threads %d: give a positive number of threads, or 0 for the default", f.threads)
	}
	return nil
}

// options builds the controller's options: worker processes re-run this
// binary as `vaexp --db DB --out OUT sweep worker`.
func (a *app) sweepOptions(c *cobra.Command, db *tracker.DB, f driveFlags) (sweep.Options, error) {
	o := sweep.Options{DB: db, OutDir: a.outDir, Workers: f.workers, Threads: f.threads, Command: a.command}
	stderr := c.ErrOrStderr()
	if !f.quiet && isTerminal(stderr) {
		o.Progress = stderr
	} else {
		o.Log = stderr
	}
	if !f.inProcess {
		exe, err := os.Executable()
		if err != nil {
			return o, fmt.Errorf("find the vaexp binary for the worker processes: %w (or use --in-process)", err)
		}
		dbPath, err := filepath.Abs(a.dbPath)
		if err != nil {
			return o, err
		}
		out, err := filepath.Abs(a.outDir)
		if err != nil {
			return o, err
		}
		o.WorkerCommand = []string{exe, "--db", dbPath, "--out", out, "sweep", "worker"}
	}
	return o, nil
}

// oneSpecArg accepts exactly one SPEC file argument.
func oneSpecArg(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s takes one SPEC file, got %d arguments; e.g. `%s experiments/sweeps/beta.yaml`", c.CommandPath(), len(args), c.CommandPath())
	}
	return nil
}

// specError turns a sweep spec mistake into a usage error (exit status 2).
func specError(err error) error {
	var se *sweep.SpecError
	if errors.As(err, &se) {
		return usageError{err}
	}
	return err
}

func newSweepRunCmd(a *app) *cobra.Command {
	var f driveFlags
	var name string
	var full bool
	c := &cobra.Command{
		Use:   "run SPEC",
		Short: "Run a sweep: every trial in worker processes, with a live display",
		Long: "run checks the whole spec before anything trains, records the sweep and its trials in the\n" +
			"tracker, and runs the trials in --workers worker processes. Ctrl-C stops every worker\n" +
			"after it saved its checkpoint and prints the command that resumes the sweep.",
		Example: "  vaexp sweep run experiments/sweeps/beta.yaml --workers 2\n" +
			"  vaexp sweep run experiments/sweeps/halving.yaml --full-budget   # the same configurations, all to the top rung",
		Args: oneSpecArg,
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			spec, err := sweep.Load(args[0])
			if err != nil {
				return specError(err)
			}
			if full {
				if spec, err = spec.FullBudget(); err != nil {
					return usageError{err}
				}
			}
			db, err := a.openDB(true)
			if err != nil {
				return err
			}
			defer db.Close()
			return a.drive(c, db, f, func(ctx context.Context, o sweep.Options) (sweep.Result, error) {
				o.Name = name
				return sweep.Start(ctx, spec, o)
			})
		},
	}
	f.register(c)
	c.Flags().StringVar(&name, "name", "", "name the sweep (default: the spec's name:, else the file's name)")
	c.Flags().BoolVar(&full, "full-budget", false, "halving specs: run every configuration to the top rung instead (the baseline halving saves against)")
	return c
}

func newSweepResumeCmd(a *app) *cobra.Command {
	var f driveFlags
	var retry bool
	c := &cobra.Command{
		Use:   "resume SWEEP",
		Short: "Continue a stopped or killed sweep: finished trials are kept, interrupted ones continue from their checkpoints",
		Long: "resume takes the sweep over (a second resume of the same sweep is refused while the first\n" +
			"runs), hands the trials of dead workers out again and continues them from their\n" +
			"checkpoints; finished trials are never run again.",
		Example: "  vaexp sweep resume 3\n  vaexp sweep resume beta --retry-failed",
		Args:    sweepIDArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := f.check(); err != nil {
				return err
			}
			db, sw, err := a.openSweep(args[0])
			if err != nil {
				return err
			}
			defer db.Close()
			return a.drive(c, db, f, func(ctx context.Context, o sweep.Options) (sweep.Result, error) {
				o.RetryFailed = retry
				return sweep.Resume(ctx, sw.ID, o)
			})
		},
	}
	f.register(c)
	c.Flags().BoolVar(&retry, "retry-failed", false, "run failed trials again (from their last checkpoint)")
	return c
}

// drive runs a sweep's controller with the command's options until the
// sweep ends or Ctrl-C stops it, and reports how it ended.
func (a *app) drive(c *cobra.Command, db *tracker.DB, f driveFlags, run func(context.Context, sweep.Options) (sweep.Result, error)) error {
	o, err := a.sweepOptions(c, db, f)
	if err != nil {
		return err
	}
	ctx, cancel := interruptible(c.Context(), c.ErrOrStderr())
	defer cancel()
	res, err := run(ctx, o)
	return a.sweepEnded(c.OutOrStdout(), res, err)
}

// sweepEnded prints how a sweep ended and, if it stopped, how to resume it.
func (a *app) sweepEnded(w io.Writer, res sweep.Result, err error) error {
	if res.SweepID == 0 {
		return err
	}
	done := res.Counts[tracker.TrialFinished] + res.Counts[tracker.TrialPruned] + res.Counts[tracker.TrialFailed]
	total := 0
	for _, n := range res.Counts {
		total += n
	}
	fmt.Fprintf(w, "sweep %d %s %s after %s: %d of %d trials done (%d finished, %d pruned, %d failed)\n", res.SweepID, res.Name, res.State,
		formatDuration(res.Elapsed), done, total, res.Counts[tracker.TrialFinished], res.Counts[tracker.TrialPruned], res.Counts[tracker.TrialFailed])
	if res.Best != nil {
		fmt.Fprintf(w, "best: trial %d (run %d, seed %d) %s: %s\n", res.Best.Index, res.Best.RunID, res.Best.Seed,
			sweep.FormatConfig(res.Best.Config), formatValue(res.Best.Value))
	}
	if res.State == tracker.SweepStopped {
		fmt.Fprintf(w, "resume with: vaexp --db %s --out %s sweep resume %d\n", shellArg(a.dbPath), shellArg(a.outDir), res.SweepID)
		if err == nil {
			err = fmt.Errorf("sweep %d stopped before every trial ended", res.SweepID)
		}
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("sweep %d interrupted; resume it with `vaexp sweep resume %d`", res.SweepID, res.SweepID)
	}
	if err == nil && res.Counts[tracker.TrialFailed] > 0 {
		return fmt.Errorf("%d trials failed (see `vaexp sweep status %d`; `vaexp sweep resume %d --retry-failed` runs them again)",
			res.Counts[tracker.TrialFailed], res.SweepID, res.SweepID)
	}
	return err
}

// shellArg quotes a path for a command the user may paste.
func shellArg(s string) string { return commandLine([]string{s}) }

// sweepIDArgs accepts one SWEEP argument.
func sweepIDArgs(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s takes one SWEEP (an id, a name, or last), got %d arguments; list them with `vaexp sweep list`", c.CommandPath(), len(args))
	}
	return nil
}

// openSweep opens the database and resolves a SWEEP argument.
func (a *app) openSweep(arg string) (*tracker.DB, tracker.Sweep, error) {
	db, err := a.openDB(false)
	if err != nil {
		return nil, tracker.Sweep{}, err
	}
	sw, err := resolveSweep(db, arg)
	if err != nil {
		db.Close()
		return nil, tracker.Sweep{}, err
	}
	return db, sw, nil
}

// onSweep returns a command body that opens the database, resolves the
// SWEEP argument and calls fn with both.
func (a *app) onSweep(fn func(c *cobra.Command, db *tracker.DB, sw tracker.Sweep) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		db, sw, err := a.openSweep(args[0])
		if err != nil {
			return err
		}
		defer db.Close()
		return fn(c, db, sw)
	}
}

func resolveSweep(db *tracker.DB, arg string) (tracker.Sweep, error) {
	if id, err := strconv.ParseInt(arg, 10, 64); err == nil {
		return db.Sweep(id)
	}
	if arg == "last" {
		all, err := db.Sweeps()
		if err != nil {
			return tracker.Sweep{}, err
		}
		if len(all) == 0 {
			return tracker.Sweep{}, fmt.Errorf("sweep last: %s has no sweeps yet; start one with `vaexp sweep run SPEC`", db.Path())
		}
		return all[0], nil
	}
	return db.SweepByName(arg)
}

// newSweepWorkerCmd is the hidden command a sweep's worker processes run.
func newSweepWorkerCmd(a *app) *cobra.Command {
	var n int
	c := &cobra.Command{
		Use:    "worker SWEEP_ID",
		Short:  "Run trials of a sweep (started by sweep run/resume)",
		Hidden: true,
		Args:   sweepIDArgs,
		RunE: func(c *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return usagef("sweep worker %q: want the sweep's id", args[0])
			}
			db, err := a.openDB(false)
			if err != nil {
				return err
			}
			defer db.Close()
			ctx, cancel := interruptible(c.Context(), c.ErrOrStderr())
			defer cancel()
			go watchParent(ctx, cancel, c.ErrOrStderr())
			fmt.Fprintf(c.ErrOrStderr(), "%s worker %d of sweep %d, pid %d\n", time.Now().Format(time.RFC3339), n, id, os.Getpid())
			err = sweep.Work(ctx, db, id, sweep.WorkerOptions{OutDir: a.outDir, Log: c.ErrOrStderr(), Command: a.command})
			if errors.Is(err, context.Canceled) {
				return nil // stopped on request; the trial is pending again
			}
			return err
		},
	}
	c.Flags().IntVar(&n, "worker", 0, "this worker's number (for its log)")
	return c
}

// watchParent cancels the worker when its controller dies (killed
// outright), so the worker saves its checkpoint and hands its trial back
// instead of running on alone.
func watchParent(ctx context.Context, cancel context.CancelFunc, log io.Writer) {
	parent := os.Getppid()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				fmt.Fprintf(log, "%s the controller (pid %d) is gone: saving a checkpoint and stopping\n", time.Now().Format(time.RFC3339), parent)
				cancel()
				return
			}
		}
	}
}

func newSweepTrialCmd(a *app) *cobra.Command {
	var index int
	var name string
	c := &cobra.Command{
		Use:   "trial SPEC --index I",
		Short: "Run exactly trial I of a sweep (one task of a Slurm job array or Kubernetes Indexed Job)",
		Long: "trial records the sweep in --db if it is new there and runs its trial I. Each task of a\n" +
			"job array writes its own database (a SQLite file shared over NFS is not safe); bring them\n" +
			"together with `vaexp tracker merge`. A trial already finished in --db is not run again.\n" +
			"I defaults to $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX. Halving sweeps need one\n" +
			"controller and run with `sweep run`.",
		Example: "  vaexp --db task-3.db --out task-3 sweep trial beta.yaml --index 3\n" +
			"  vaexp sweep emit beta.yaml --slurm > beta.sbatch   # the job array that runs these",
		Args: oneSpecArg,
		RunE: func(c *cobra.Command, args []string) error {
			if !c.Flags().Changed("index") {
				for _, env := range []string{"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"} {
					if v := os.Getenv(env); v != "" {
						i, err := strconv.Atoi(v)
						if err != nil {
							return usagef("$%s=%q is not a trial index", env, v)
						}
						index = i
					}
				}
				if index < 0 {
					return usagef("sweep trial needs --index I (or $SLURM_ARRAY_TASK_ID / $JOB_COMPLETION_INDEX)")
				}
			}
			spec, err := sweep.Load(args[0])
			if err != nil {
				return specError(err)
			}
			db, err := a.openDB(true)
			if err != nil {
				return err
			}
			defer db.Close()
			ctx, cancel := interruptible(c.Context(), c.ErrOrStderr())
			defer cancel()
			t, ran, err := sweep.RunTrial(ctx, db, spec, name, index, sweep.WorkerOptions{OutDir: a.outDir, Log: c.ErrOrStderr(), Command: a.command})
			w := c.OutOrStdout()
			if !ran && err == nil {
				if t.State == tracker.TrialRunning {
					return fmt.Errorf("trial %d is being run by pid %d on %s", index, t.WorkerPID, t.WorkerHost)
				}
				fmt.Fprintf(w, "trial %d already %s (run %d); nothing to do\n", index, t.State, t.RunID)
				return nil
			}
			if t.RunID != 0 {
				fmt.Fprintf(w, "trial %d %s (run %d): %s\n", index, t.State, t.RunID, formatValue(t.Value))
			}
			return err
		},
	}
	c.Flags().IntVar(&index, "index", -1, "the trial to run, 0 … N-1 (`vaexp sweep status` lists them)")
	c.Flags().StringVar(&name, "name", "", "the sweep's name (default: the spec's name:, else the file's name); every task must use the same")
	return c
}
