package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments/sweep"
	"github.com/vaexp/vaexp/tracker"
)

func newSweepListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the sweeps: method, state, trials done, best value",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			db, err := a.openDB(false)
			if err != nil {
				return err
			}
			defer db.Close()
			all, err := db.Sweeps()
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if len(all) == 0 {
				fmt.Fprintf(w, "no sweeps in %s yet; start one with `vaexp sweep run SPEC`\n", db.Path())
				return nil
			}
			t := newTable(w)
			t.row("ID", "NAME", "METHOD", "STATE", "DONE", "FINISHED", "PRUNED", "FAILED", "METRIC", "BEST", "CREATED")
			for _, s := range all {
				best := "-"
				if b, err := sweep.BestTrial(db, s.ID, false); err == nil {
					best = fmt.Sprintf("%s (trial %d)", formatValue(b.Value), b.Index)
				}
				done := s.Counts[tracker.TrialFinished] + s.Counts[tracker.TrialPruned] + s.Counts[tracker.TrialFailed]
				t.row(s.ID, s.Name, s.Method, s.State, fmt.Sprintf("%d/%d", done, s.Trials), s.Counts[tracker.TrialFinished],
					s.Counts[tracker.TrialPruned], s.Counts[tracker.TrialFailed], s.Metric+" "+s.Direction, best, formatTime(s.CreatedAt))
			}
			return t.flush()
		},
	}
}

func newSweepStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status SWEEP",
		Short: "A sweep's trials: params, seed, state, rung, run and metric",
		Args:  sweepIDArgs,
		RunE: a.onSweep(func(c *cobra.Command, db *tracker.DB, sw tracker.Sweep) error {
			trials, err := db.Trials(sw.ID)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			var states []string
			for _, st := range []string{tracker.TrialFinished, tracker.TrialPruned, tracker.TrialFailed, tracker.TrialRunning, tracker.TrialPaused, tracker.TrialPending} {
				if n := sw.Counts[st]; n > 0 {
					states = append(states, fmt.Sprintf("%d %s", n, st))
				}
			}
			fmt.Fprintf(w, "sweep %d %s: %s, %s; %d trials: %s; metric %s (%s); created %s\n", sw.ID, sw.Name, sw.Method, sw.State,
				sw.Trials, strings.Join(states, ", "), sw.Metric, sw.Direction, formatTime(sw.CreatedAt))
			if sw.OwnerPID != 0 {
				fmt.Fprintf(w, "controller: pid %d on %s\n", sw.OwnerPID, sw.OwnerHost)
			}
			var budgets []int
			unit := ""
			if sw.Method == "halving" {
				if spec, err := sweep.FromTracker(sw); err == nil {
					budgets, unit = spec.Halving.Budgets(), spec.Halving.Unit
				}
			}
			keys := map[string]bool{}
			params := make([]map[string]any, len(trials))
			for i, tr := range trials {
				params[i], _ = tr.Params()
				for k := range params[i] {
					keys[k] = true
				}
			}
			var names []string
			for k := range keys {
				names = append(names, k)
			}
			sort.Strings(names)
			t := newTable(w)
			header := []any{"TRIAL"}
			for _, k := range names {
				header = append(header, k)
			}
			header = append(header, "SEED", "STATE", "RUNG", "RUN", sw.Metric)
			t.row(header...)
			for i, tr := range trials {
				row := []any{tr.Index}
				for _, k := range names {
					row = append(row, cellText(params[i][k], params[i][k] != nil))
				}
				rung := "-"
				if budgets != nil && tr.Rung < len(budgets) {
					rung = fmt.Sprintf("%d (%d %s)", tr.Rung, budgets[tr.Rung], unit)
				}
				run := "-"
				if tr.RunID != 0 {
					run = fmt.Sprint(tr.RunID)
				}
				val := "-"
				if finiteValue(tr.Value) {
					val = formatValue(tr.Value)
				}
				state := tr.State
				if tr.State == tracker.TrialFailed && tr.Error != "" {
					state += ": " + clipText(tr.Error, 60)
				}
				row = append(row, tr.Seed, state, rung, run, val)
				t.row(row...)
			}
			return t.flush()
		}),
	}
}

func finiteValue(v float64) bool { return v == v && v-v == 0 }

func newSweepBestCmd(a *app) *cobra.Command {
	var byMean bool
	c := &cobra.Command{
		Use:   "best SWEEP [--by-mean-over-seeds]",
		Short: "The best trial by the sweep's metric, or the best configuration by its mean over seeds",
		Args:  sweepIDArgs,
		RunE: a.onSweep(func(c *cobra.Command, db *tracker.DB, sw tracker.Sweep) error {
			b, err := sweep.BestTrial(db, sw.ID, byMean)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			t := newTable(w)
			t.row("sweep", fmt.Sprintf("%d %s", sw.ID, sw.Name))
			t.row("config", sweep.FormatConfig(b.Config))
			if byMean {
				std := "-"
				if finiteValue(b.Std) {
					std = formatValue(b.Std)
				}
				t.row(sw.Metric+" mean", formatValue(b.Value))
				t.row("std (n-1)", std)
				t.row("seeds", b.N)
				t.row("best seed", fmt.Sprintf("%d (trial %d, run %d)", b.Seed, b.Index, b.RunID))
			} else {
				t.row(sw.Metric, formatValue(b.Value))
				t.row("trial", b.Index)
				t.row("run", b.RunID)
				t.row("seed", b.Seed)
			}
			return t.flush()
		}),
	}
	c.Flags().BoolVar(&byMean, "by-mean-over-seeds", false, "rank configurations by their metric's mean over seeds")
	return c
}

func newSweepEmitCmd() *cobra.Command {
	var slurm, k8s bool
	var o sweep.EmitOptions
	c := &cobra.Command{
		Use:   "emit SPEC --slurm|--k8s",
		Short: "Print an sbatch job-array script or a Kubernetes Indexed Job manifest that runs the sweep",
		Long: "emit writes a job script for an existing scheduler: task i runs `vaexp sweep trial SPEC\n" +
			"--index i` into its own tracker file; `vaexp tracker merge` brings them together. The\n" +
			"spec travels inside the script. Halving sweeps need one controller: use `sweep run`.",
		Example: "  vaexp sweep emit experiments/sweeps/beta.yaml --slurm --dir /shared/beta > beta.sbatch && sbatch beta.sbatch\n" +
			"  vaexp sweep emit experiments/sweeps/beta.yaml --k8s --image registry.example.com/vaexp:v1 > beta.yaml",
		Args: func(c *cobra.Command, args []string) error {
			if err := oneSpecArg(c, args); err != nil {
				return err
			}
			if slurm == k8s {
				return usagef("sweep emit needs exactly one of --slurm and --k8s")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			spec, err := sweep.Load(args[0])
			if err != nil {
				return specError(err)
			}
			var out string
			if slurm {
				if o.Binary == "" {
					if o.Binary, err = os.Executable(); err != nil {
						return fmt.Errorf("find the vaexp binary: %w (give --binary)", err)
					}
				}
				if o.Dir != "" {
					if o.Dir, err = filepath.Abs(o.Dir); err != nil {
						return err
					}
				}
				out, err = sweep.EmitSlurm(spec, o)
			} else {
				out, err = sweep.EmitK8s(spec, o)
			}
			if err != nil {
				return usageError{err}
			}
			_, err = fmt.Fprint(c.OutOrStdout(), out)
			return err
		},
	}
	fl := c.Flags()
	fl.BoolVar(&slurm, "slurm", false, "print an sbatch script (a job array)")
	fl.BoolVar(&k8s, "k8s", false, "print a Kubernetes Indexed Job (and the ConfigMap holding the spec)")
	fl.StringVar(&o.Dir, "dir", "", "`DIR` for the tasks' databases and runs (Slurm: default sweep-<name>, shared by the nodes; Kubernetes: the volume's mount point, default /results)")
	fl.StringVar(&o.Binary, "binary", "", "the vaexp binary on the nodes (Slurm; default: this one)")
	fl.IntVar(&o.Threads, "threads", 1, "backend threads (CPUs) per task")
	fl.StringVar(&o.Partition, "partition", "", "Slurm partition")
	fl.StringVar(&o.Time, "time", "", "Slurm time limit per task, e.g. 2:00:00")
	fl.StringVar(&o.Image, "image", "", "container image holding vaexp (Kubernetes)")
	fl.IntVar(&o.Parallelism, "parallelism", 0, "pods at once (Kubernetes; default all)")
	fl.StringVar(&o.Claim, "claim", "", "PersistentVolumeClaim for the results (Kubernetes; default vaexp-results)")
	return c
}
