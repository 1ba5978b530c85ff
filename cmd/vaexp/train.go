package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/tracker"
)

// trainFlags are the flags of `vaexp train`.
type trainFlags struct {
	model                     string
	epochs, steps, batchSize  int
	lr                        float64
	latentDim                 int
	hidden, init              string
	seed                      int64
	binarize, data            string
	val, limit, testLimit     int
	excludeClasses            []int
	dataDir                   string
	iwaeK, samples, ckptEvery int
	quality                   int
	name, experiment          string
	tags, sets                []string
	specFile, resume          string
	quiet                     bool
}

// specFlag maps one flag onto the spec; it is applied only when the flag was
// given, so a --spec file's value stands otherwise.
type specFlag struct {
	name  string
	apply func(f *trainFlags, s *experiments.Spec)
}

// specFlags lists every flag that describes the run (as opposed to how it is
// driven); --resume refuses them because a resumed run keeps its own spec.
var specFlags = []specFlag{
	{"model", func(f *trainFlags, s *experiments.Spec) { s.Family = f.model }},
	{"epochs", func(f *trainFlags, s *experiments.Spec) { s.Train.Epochs = f.epochs }},
	{"steps", func(f *trainFlags, s *experiments.Spec) { s.Train.Steps = f.steps }},
	{"batch-size", func(f *trainFlags, s *experiments.Spec) { s.Train.BatchSize = f.batchSize }},
	{"lr", func(f *trainFlags, s *experiments.Spec) { s.Train.LR = f.lr }},
	{"checkpoint-every", func(f *trainFlags, s *experiments.Spec) { s.Train.CheckpointEvery = f.ckptEvery }},
	{"seed", func(f *trainFlags, s *experiments.Spec) { s.Seed = f.seed }},
	{"data", func(f *trainFlags, s *experiments.Spec) { s.Data.Name = f.data }},
	{"binarize", func(f *trainFlags, s *experiments.Spec) { s.Data.Binarize = f.binarize }},
	{"val", func(f *trainFlags, s *experiments.Spec) { s.Data.Val = f.val }},
	{"limit", func(f *trainFlags, s *experiments.Spec) { s.Data.Limit = f.limit }},
	{"test-limit", func(f *trainFlags, s *experiments.Spec) { s.Data.TestLimit = f.testLimit }},
	{"exclude-classes", func(f *trainFlags, s *experiments.Spec) { s.Data.ExcludeClasses = f.excludeClasses }},
	{"data-dir", func(f *trainFlags, s *experiments.Spec) { s.Data.Dir = f.dataDir }},
	{"iwae-k", func(f *trainFlags, s *experiments.Spec) { s.Eval.IWAEK = f.iwaeK }},
	{"samples", func(f *trainFlags, s *experiments.Spec) { s.Eval.Samples = f.samples }},
	{"quality", func(f *trainFlags, s *experiments.Spec) { s.Eval.Quality = f.quality }},
	{"name", func(f *trainFlags, s *experiments.Spec) { s.Name = f.name }},
	{"experiment", func(f *trainFlags, s *experiments.Spec) { s.Experiment = f.experiment }},
	{"latent-dim", func(f *trainFlags, s *experiments.Spec) { s.Params["latent_dim"] = f.latentDim }},
	{"hidden", func(f *trainFlags, s *experiments.Spec) { s.Params["hidden"] = f.hidden }},
	{"init", func(f *trainFlags, s *experiments.Spec) { s.Params["init"] = f.init }},
	{"tag", nil},  // applied by spec, repeatable
	{"set", nil},  // applied by spec, repeatable
	{"spec", nil}, // read first by spec
}

// paramFlags are the family hyperparameters with a flag of their own.
var paramFlags = map[string]string{"latent_dim": "latent-dim", "hidden": "hidden", "init": "init"}

func newTrainCmd(a *app) *cobra.Command {
	c, _ := trainCommand(a)
	return c
}

// trainCommand returns the train command and the flags it parses into.
func trainCommand(a *app) (*cobra.Command, *trainFlags) {
	f := &trainFlags{}
	def := experiments.DefaultSpec()
	c := &cobra.Command{
		Use:   "train",
		Short: "Train a model and record the run",
		Long: "train builds a run spec from the defaults, an optional --spec YAML file and the flags\n" +
			"given explicitly (in that order), trains it, and records everything in the tracker.\n" +
			"Ctrl-C (SIGINT) or SIGTERM stops after the current step, saves a checkpoint and marks\n" +
			"the run killed; continue it with --resume RUN_ID.",
		Example: "  vaexp train --epochs 10 --latent-dim 20 --hidden 400\n" +
			"  vaexp train --spec runs.yaml --lr 3e-4 --tag note=baseline\n" +
			"  vaexp train --resume last",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return a.train(c, f) },
	}
	fl := c.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.model, "model", def.Family, "model family `NAME` (list them with: vaexp models)")
	fl.IntVar(&f.epochs, "epochs", def.Train.Epochs, "epochs to train (ignored when --steps > 0)")
	fl.IntVar(&f.steps, "steps", def.Train.Steps, "total training steps; overrides --epochs when > 0")
	fl.IntVar(&f.batchSize, "batch-size", def.Train.BatchSize, "examples per step")
	fl.Float64Var(&f.lr, "lr", def.Train.LR, "Adam learning rate (0: the family's, 1e-3 for the VAE families)")
	fl.IntVar(&f.latentDim, "latent-dim", 0, "dimension of the latent code (family param latent_dim; default: the family's)")
	fl.StringVar(&f.hidden, "hidden", "", "hidden layer `WIDTHS`, e.g. 400 or 512,256 (family param hidden; default: the family's)")
	fl.StringVar(&f.init, "init", "", "weight initialization `pytorch|he` (family param init; default: the family's)")
	fl.Int64Var(&f.seed, "seed", def.Seed, "seed for initialization, sampling, shuffling and binarization")
	fl.StringVar(&f.data, "data", def.Data.Name, "data set `NAME` (list them with: vaexp datasets)")
	fl.StringVar(&f.binarize, "binarize", def.Data.Binarize, "pixel binarization `"+strings.Join(experiments.Binarizations, "|")+"`")
	fl.IntVar(&f.val, "val", def.Data.Val, "validation examples carved out of the training set (0: none)")
	fl.IntVar(&f.limit, "limit", def.Data.Limit, "keep only the first N training examples (0: all)")
	fl.IntVar(&f.testLimit, "test-limit", def.Data.TestLimit, "keep only the first N test examples (0: all)")
	fl.IntSliceVar(&f.excludeClasses, "exclude-classes", nil, "leave the examples of these `CLASSES` (e.g. 3 or 3,5) out of training; the test split keeps them (vaexp eval --metrics anomaly scores them)")
	fl.StringVar(&f.dataDir, "data-dir", def.Data.Dir, "`DIR` holding the data files of a file-backed data set such as mnist (default: found automatically)")
	fl.IntVar(&f.iwaeK, "iwae-k", def.Eval.IWAEK, "importance samples for the final test log-likelihood estimate (0: skip)")
	fl.IntVar(&f.samples, "samples", def.Eval.Samples, "generated images in the samples.png artifact (0: none)")
	fl.IntVar(&f.quality, "quality", def.Eval.Quality, "generated samples scored by FID-LeNet and IS at each epoch's end and at the end (0: none; MNIST-like data)")
	fl.IntVar(&f.ckptEvery, "checkpoint-every", def.Train.CheckpointEvery, "save a checkpoint every N steps (0: at each epoch end only)")
	fl.StringVar(&f.name, "name", def.Name, "run name shown in listings (default run-<id>)")
	fl.StringVar(&f.experiment, "experiment", def.Experiment, "experiment grouping the run (default \"default\")")
	fl.StringArrayVar(&f.tags, "tag", nil, "tag the run with `key=value` (repeatable)")
	fl.StringArrayVar(&f.sets, "set", nil, "set a family hyperparameter `name=value`, e.g. --set likelihood=gaussian (repeatable; list them with: vaexp models NAME)")
	fl.StringVar(&f.specFile, "spec", "", "YAML run spec `FILE`; flags given explicitly override it")
	fl.StringVar(&f.resume, "resume", "", "continue run `RUN_ID` (a number or last) from its last checkpoint, with its recorded spec")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	return c, f
}

// noArgs rejects positional arguments.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q (flags start with --; see `%s --help`)", c.CommandPath(), args[0], c.CommandPath())
	}
	return nil
}

// spec builds the run spec: defaults, then the --spec file, then the flags
// given explicitly. It only parses; validation is the spec's own.
func (f *trainFlags) spec(fs *pflag.FlagSet) (experiments.Spec, error) {
	spec := experiments.DefaultSpec()
	if f.specFile != "" {
		var err error
		if spec, err = experiments.LoadSpec(f.specFile); err != nil {
			return spec, err
		}
	}
	if spec.Params == nil {
		spec.Params = map[string]any{}
	}
	for _, sf := range specFlags {
		if sf.apply != nil && fs.Changed(sf.name) {
			sf.apply(f, &spec)
		}
	}
	if fs.Changed("epochs") && !fs.Changed("steps") {
		spec.Train.Steps = 0 // an explicit --epochs beats a step budget from the spec file
	}
	sets := map[string]any{}
	if err := experiments.ParseSet(f.sets, sets); err != nil {
		return spec, usageError{err}
	}
	for k, v := range sets {
		if flag, ok := paramFlags[k]; ok && fs.Changed(flag) {
			return spec, usagef("--set %s=%v and --%s both set %s: give it once", k, v, flag, k)
		}
		spec.Params[k] = v
	}
	for _, t := range f.tags {
		k, v, ok := strings.Cut(t, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return spec, usagef("--tag %q: want key=value, e.g. --tag note=baseline", t)
		}
		if spec.Tags == nil {
			spec.Tags = map[string]string{}
		}
		spec.Tags[k] = strings.TrimSpace(v)
	}
	return spec, nil
}

func (a *app) train(c *cobra.Command, f *trainFlags) error {
	var spec experiments.Spec
	var resume int64
	if f.resume != "" {
		var given []string
		for _, sf := range specFlags {
			if c.Flags().Changed(sf.name) {
				given = append(given, "--"+sf.name)
			}
		}
		if len(given) > 0 {
			return usagef("--resume continues a run with the spec it was started with; drop %s (or start a new run)", strings.Join(given, ", "))
		}
		if _, err := parseRunID(f.resume); err != nil {
			return err
		}
	} else {
		var err error
		if spec, err = f.spec(c.Flags()); err != nil {
			return err
		}
		// Checked here too (Run does it again) so that a bad spec or --out
		// creates neither the database file nor a run folder.
		if _, err := spec.Validate(); err != nil {
			return err
		}
		if err := experiments.CheckOutDir(a.outDir); err != nil {
			return err
		}
		if err := experiments.CheckData(spec); err != nil {
			return err
		}
	}

	db, err := a.openDB(f.resume == "") // resuming needs the database the run is in
	if err != nil {
		return err
	}
	defer db.Close()
	if f.resume != "" {
		if _, err := db.MarkStale(staleAfter); err != nil {
			return err
		}
		run, err := resolveRun(db, f.resume)
		if err != nil {
			return err
		}
		if run.Status == tracker.StatusRunning {
			return &tracker.HeldError{RunID: run.ID, PID: run.PID, Host: run.Host, Heartbeat: run.HeartbeatAt}
		}
		resume = run.ID
	}

	ctx, cancel := interruptible(c.Context(), c.ErrOrStderr())
	defer cancel()
	stderr := c.ErrOrStderr()
	opts := experiments.Options{DB: db, OutDir: a.outDir, Resume: resume, Log: stderr, Command: a.command}
	// A progress bar redraws one line with carriage returns: only on a
	// terminal. Logs and CI get the one-line-per-epoch messages instead.
	if !f.quiet && isTerminal(stderr) {
		opts.Progress = stderr
	}
	res, runErr := experiments.Run(ctx, spec, opts)
	if res.RunID != 0 {
		printResult(c.OutOrStdout(), res)
	}
	if runErr != nil {
		return runErr
	}
	if res.Status != tracker.StatusFinished {
		return fmt.Errorf("run %d ended %s", res.RunID, res.Status)
	}
	return nil
}

// printResult prints the run's id, folder and final metrics, and last a line
// `run <id> <status>` for scripts.
func printResult(w io.Writer, res experiments.Result) {
	t := newTable(w)
	t.row("run", res.RunID)
	t.row("status", res.Status)
	t.row("steps", res.Steps)
	t.row("folder", orDash(res.RunDir))
	if res.MedianStep > 0 {
		t.row("median step", res.MedianStep.Round(10*time.Microsecond))
	}
	keys := make([]string, 0, len(res.Metrics))
	for k := range res.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.row(k, formatValue(res.Metrics[k]))
	}
	_ = t.flush()
	fmt.Fprintf(w, "run %d %s\n", res.RunID, res.Status)
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM,
// which the run driver turns into a checkpoint and the status killed. The
// handler is removed after that signal, so a second one quits at once.
func interruptible(parent context.Context, stderr io.Writer) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		defer signal.Stop(sig)
		select {
		case s := <-sig:
			fmt.Fprintf(stderr, "\nvaexp: %v: finishing the current step and saving a checkpoint (signal again to quit at once)\n", s)
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
