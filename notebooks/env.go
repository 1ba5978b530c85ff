// Package notebooks holds what vaexp's GoNB notebooks share: where their runs
// are recorded, their training budgets (real ones, or seconds-long ones under
// VAEXP_SMOKE=1 for CI), and how figures and tables are shown — PNG images and
// HTML tables through GoNB's gonbui. Outside a notebook the display functions
// do nothing, so the package also builds and tests as plain Go.
//
// The notebooks themselves (*.ipynb) sit beside this file; install.sh
// registers the gonb kernel, run_all.py executes them headless.
package notebooks

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/tracker"
)

// SmokeEnv names the environment variable that selects smoke budgets: set to
// anything but "" or "0", every notebook trains for seconds instead of
// minutes (CI does this).
const SmokeEnv = "VAEXP_SMOKE"

// RunsEnv names the environment variable that overrides the folder holding
// the notebooks' run folders (default: "runs" beside the database).
const RunsEnv = "VAEXP_RUNS"

// Smoke reports whether smoke budgets are selected (see SmokeEnv).
func Smoke() bool {
	v := os.Getenv(SmokeEnv)
	return v != "" && v != "0"
}

// Budget returns real, or smoke under VAEXP_SMOKE=1: the one place a notebook
// chooses between its real training budget and CI's.
func Budget[T any](real, smoke T) T {
	if Smoke() {
		return smoke
	}
	return real
}

// dir is the notebook's folder: GoNB runs cells in a temporary folder and
// passes the kernel's (the notebook's) folder in GONB_DIR.
func dir() string {
	if d := os.Getenv("GONB_DIR"); d != "" {
		return d
	}
	d, _ := os.Getwd()
	return d
}

// DBPath is the tracker database the notebooks record their runs in:
// $VAEXP_DB, or vaexp.db in the notebook's folder.
func DBPath() string {
	if p := os.Getenv(tracker.EnvDB); p != "" {
		return p
	}
	return filepath.Join(dir(), "vaexp.db")
}

// RunsDir is the folder that holds one folder per run: $VAEXP_RUNS, or
// "runs" beside the database.
func RunsDir() string {
	if p := os.Getenv(RunsEnv); p != "" {
		return p
	}
	return filepath.Join(filepath.Dir(DBPath()), "runs")
}

// OpenDB opens (creating if needed) the database at DBPath.
func OpenDB() (*tracker.DB, error) {
	path := DBPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("tracker folder: %w", err)
	}
	return tracker.Open(path)
}

// Options are the run options every notebook trains with: recorded in db,
// run folders under RunsDir, no progress bar (notebooks draw a LivePlot
// instead; pass its Step as OnStep).
func Options(db *tracker.DB, onStep func(step int, terms map[string]float64)) experiments.Options {
	return experiments.Options{DB: db, OutDir: RunsDir(), OnStep: onStep, Command: "notebook"}
}

// LatestRun returns the id of the newest finished run called name in
// experiment: how a cell finds the model an earlier cell trained (each GoNB
// cell runs as a new process, so nothing else survives between cells).
func LatestRun(db *tracker.DB, experiment, name string) (int64, error) {
	ids, err := db.Runs().
		Where(fmt.Sprintf("experiment = %s AND name = %s AND status = 'finished'", quote(experiment), quote(name))).
		OrderBy("id desc").Limit(1).IDs()
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("no finished run %q in experiment %q of %s: run the training cell above first", name, experiment, db.Path())
	}
	return ids[0], nil
}

// Load restores the model of the newest finished run called name in experiment.
func Load(db *tracker.DB, experiment, name string) (*experiments.Trained, error) {
	id, err := LatestRun(db, experiment, name)
	if err != nil {
		return nil, err
	}
	return experiments.Load(db, id)
}

// quote writes s as a string literal of the tracker's filter language.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// Context returns a context cancelled when the cell is interrupted (Jupyter's
// interrupt button sends the cell's program SIGINT): a run interrupted this way
// saves a checkpoint and is recorded as killed, resumable with
// experiments.Options.Resume.
func Context() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx
}
