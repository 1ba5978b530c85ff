package experiments

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vaexp/vaexp/tracker"
)

// tinySpec is a run of a few dozen steps on a small MNIST subset.
func tinySpec(steps int) Spec {
	s := quickSpec()
	s.Data.Limit = 1024
	s.Data.TestLimit = 200
	s.Train.Steps = steps
	s.Eval.Samples = 0
	return s
}

func TestStallWatchdogMarksRunStalled(t *testing.T) {
	db := openDB(t)
	opts := Options{DB: db, OutDir: t.TempDir(),
		Stall:   StallPolicy{Factor: 10, Min: 300 * time.Millisecond, First: time.Minute},
		stallAt: 12, stallFor: 3 * time.Second}
	start := time.Now()
	res, err := Run(context.Background(), tinySpec(30), opts)
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("err = %v, want ErrStalled", err)
	}
	if waited := time.Since(start); waited > 20*time.Second {
		t.Errorf("watchdog took %s to fire", waited)
	}
	run, _ := db.Run(res.RunID)
	if run.Status != "stalled" || !strings.Contains(run.Error, "did not finish") {
		t.Errorf("run status %q error %q, want stalled", run.Status, run.Error)
	}
	log, _ := os.ReadFile(filepath.Join(res.RunDir, "run.log"))
	if !strings.Contains(string(log), "STALL") || !strings.Contains(string(log), "goroutine ") {
		t.Errorf("run.log lacks the stall note and goroutine dump:\n%.500s", log)
	}
	// Resumable: a checkpoint exists (epoch end at step 16 is past the stall,
	// so force one by resuming: it must start from a checkpoint or from 0
	// without error and finish).
	res2, err := Run(context.Background(), Spec{}, Options{DB: db, OutDir: opts.OutDir, Resume: res.RunID})
	if err != nil || res2.Status != "finished" || res2.Steps != 30 {
		t.Fatalf("resume after stall: %+v, %v", res2, err)
	}
}

func TestNaNLossFailsClearly(t *testing.T) {
	db := openDB(t)
	spec := tinySpec(40)
	spec.Train.LR = 1e12
	res, err := Run(context.Background(), spec, Options{DB: db, OutDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not finite") || !strings.Contains(err.Error(), "--lr") {
		t.Fatalf("err = %v, want a not-finite loss error naming --lr", err)
	}
	run, _ := db.Run(res.RunID)
	if run.Status != "failed" || !strings.Contains(run.Error, "not finite") {
		t.Errorf("run %+v, want failed with the error recorded", run)
	}
}

// TestInterruptAndResumeIsExact interrupts a run (as Ctrl-C does), resumes it
// from its checkpoint and checks that every step is recorded exactly once and
// that the result equals an uninterrupted run's: batches, noise and
// optimizer state all continue where they stopped.
func TestInterruptAndResumeIsExact(t *testing.T) {
	db := openDB(t)
	out := t.TempDir()
	spec := tinySpec(40)
	spec.Train.CheckpointEvery = 10

	straight, err := Run(context.Background(), spec, Options{DB: db, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	interrupted, err := Run(ctx, spec, Options{DB: db, OutDir: out, OnStep: func(step int, _ map[string]float64) {
		if step == 23 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || interrupted.Status != "killed" {
		t.Fatalf("interrupted run: %+v, %v", interrupted, err)
	}
	resumed, err := Run(context.Background(), Spec{}, Options{DB: db, OutDir: out, Resume: interrupted.RunID})
	if err != nil || resumed.RunID != interrupted.RunID || resumed.Steps != 40 {
		t.Fatalf("resumed run: %+v, %v", resumed, err)
	}
	for _, key := range []string{"train/loss", "train/kl"} {
		h, err := db.MetricHistory(resumed.RunID, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 40 {
			t.Fatalf("%s: %d rows, want 40", key, len(h))
		}
		for i, p := range h {
			if p.Step != int64(i+1) {
				t.Fatalf("%s: row %d has step %d (duplicate or gap)", key, i, p.Step)
			}
		}
		// Bit for bit: the resumed run repeats the very computation of the
		// uninterrupted one (same weights, batches, noise and kernels), so
		// no tolerance is needed, on either SIMD path.
		ref, _ := db.MetricHistory(straight.RunID, key)
		for i := range h {
			if h[i].Value != ref[i].Value {
				t.Fatalf("%s step %d: resumed %.9g, uninterrupted %.9g", key, i+1, h[i].Value, ref[i].Value)
			}
		}
	}
	if a, b := resumed.Metrics["test/nelbo"], straight.Metrics["test/nelbo"]; a != b {
		t.Errorf("test/nelbo resumed %.9g vs uninterrupted %.9g", a, b)
	}
}

func TestBadSpecsFailBeforeRecording(t *testing.T) {
	db := openDB(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Spec, *Options){
		"unknown family":            func(s *Spec, _ *Options) { s.Family = "nope" },
		"bad binarize":              func(s *Spec, _ *Options) { s.Data.Binarize = "sometimes" },
		"zero batch":                func(s *Spec, _ *Options) { s.Train.BatchSize = 0 },
		"negative lr":               func(s *Spec, _ *Options) { s.Train.LR = -1 },
		"infinite lr":               func(s *Spec, _ *Options) { s.Train.LR = math.Inf(1) },
		"negative steps":            func(s *Spec, _ *Options) { s.Train.Steps = -5 },
		"no budget":                 func(s *Spec, _ *Options) { s.Train.Epochs, s.Train.Steps = 0, 0 },
		"huge iwae_k":               func(s *Spec, _ *Options) { s.Eval.IWAEK = 1 << 30 },
		"bad hyperparam":            func(s *Spec, _ *Options) { s.Params = map[string]any{"latent_dim": "-3"} },
		"infinite param":            func(s *Spec, _ *Options) { s.Family, s.Params = "beta-vae", map[string]any{"beta": "inf"} },
		"unknown param":             func(s *Spec, _ *Options) { s.Params = map[string]any{"betaa": "4"} },
		"huge latent_dim":           func(s *Spec, _ *Options) { s.Params = map[string]any{"latent_dim": "100000000"} },
		"huge widths":               func(s *Spec, _ *Options) { s.Params = map[string]any{"hidden": "60000,60000"} },
		"batch > data":              func(s *Spec, _ *Options) { s.Data.Limit = 10 },
		"val > data":                func(s *Spec, _ *Options) { s.Data.Val = 70000 },
		"missing data dir":          func(s *Spec, _ *Options) { s.Data.Dir = "/nonexistent/mnist" },
		"runs folder a file":        func(_ *Spec, o *Options) { o.OutDir = file },
		"runs folder inside a file": func(_ *Spec, o *Options) { o.OutDir = filepath.Join(file, "runs") },
		"runs folder too long":      func(_ *Spec, o *Options) { o.OutDir = filepath.Join(t.TempDir(), strings.Repeat("x", 300)) },
	}
	for name, mutate := range cases {
		spec := tinySpec(5)
		opts := Options{DB: db, OutDir: t.TempDir()}
		mutate(&spec, &opts)
		_, err := Run(context.Background(), spec, opts)
		var se *SpecError
		if !errors.As(err, &se) {
			t.Errorf("%s: err %v, want a *SpecError (a usage mistake)", name, err)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	runs, err := db.ListRuns()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) > 0 {
		t.Errorf("%d runs recorded for bad specs", len(runs))
	}
}

func TestParseSpecReportsLines(t *testing.T) {
	_, err := ParseSpec("x.yaml", []byte("model: vae\ntrain:\n  epochs: ten\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("type error: %v, want line 3", err)
	}
	_, err = ParseSpec("x.yaml", []byte("model: vae\ntrian:\n  epochs: 1\n"))
	if err == nil || !strings.Contains(err.Error(), "trian") {
		t.Errorf("unknown key: %v, want it named", err)
	}
	// Every mistake names its line and spec key in the user's terms, never
	// a Go type (issue 8), and is a *SpecError.
	for _, c := range []struct{ yaml, want string }{
		{"train:\n  epochs: 2.5\n", "line 2: train.epochs = 2.5: must be a whole number"},
		{"train:\n  lr: fast\n", "line 2: train.lr = fast: must be a number"},
		{"train: 5\n", "line 1: train must be a mapping of keys (epochs, steps"},
		{"data:\n  vall: 3\n", `line 2: unknown key "vall" in data; the keys there are name, seed, dir, binarize, val`},
		{"params: [1, 2]\n", "line 1: params must be a mapping of name: value lines, not a list"},
		{"params:\n  beta: {a: 1}\n", "line 2: params.beta must be a value such as 4 or a list"},
		{"tags:\n  note: [a, b]\n", "line 2: tags.note must be a single value, not a list"},
		{"model: [vae]\n", "line 1: model must be a single value, not a list"},
		{"data:\n  exclude_classes: [3, x]\n", "line 2: data.exclude_classes = x: must be a whole number"},
		{"data:\n  exclude_classes: {a: 1}\n", "line 2: data.exclude_classes must be a list of values such as [3, 5]"},
		{"- a\n", "line 1: the spec must be a mapping of keys"},
	} {
		_, err := ParseSpec("x.yaml", []byte(c.yaml))
		var se *SpecError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want a *SpecError saying %q", c.yaml, err, c.want)
		} else if msg := err.Error(); strings.Contains(msg, "experiments.") || strings.Contains(msg, "map[") || strings.Contains(msg, "interface") || strings.Contains(msg, "!!") {
			t.Errorf("%q: message %q names Go or YAML types", c.yaml, msg)
		}
	}
	if s, err := ParseSpec("x.yaml", []byte("train:\nparams:\n  hidden: [512, 256]\n")); err != nil || s.Train.Epochs != 10 {
		t.Errorf("empty train section and a list hyperparameter: %+v, %v", s, err)
	}

	s, err := ParseSpec("x.yaml", []byte("model: beta-vae\nparams: {beta: 4}\ntrain: {epochs: 3}\n"))
	if err != nil || s.Family != "beta-vae" || s.Train.Epochs != 3 || s.Train.BatchSize != 128 || s.Params["beta"] != 4 {
		t.Errorf("spec %+v, %v", s, err)
	}
}

// TestValidationSeesCurrentWeights guards against evaluating stale weights:
// the Go backend embeds variables as constants in graphs built outside
// training, so the validation KL (no sampling in it) must change from epoch
// to epoch as the encoder trains.
func TestValidationSeesCurrentWeights(t *testing.T) {
	db := openDB(t)
	s := tinySpec(48)
	s.Data.Val = 300
	s.Data.Limit = 1024
	res, err := Run(context.Background(), s, Options{DB: db, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h, err := db.MetricHistory(res.RunID, "val/kl")
	if err != nil || len(h) != 3 {
		t.Fatalf("val/kl history %v, %v: want one point per epoch (3)", h, err)
	}
	if h[0].Value == h[1].Value || h[1].Value == h[2].Value {
		t.Errorf("val/kl did not change between epochs: %v", h)
	}
}

// interruptedRun is a run of 40 steps, checkpointed every 10, interrupted
// (as Ctrl-C does) after step 25: it has checkpoints at steps 20 and 25.
func interruptedRun(t *testing.T, db *tracker.DB, out string) Result {
	t.Helper()
	spec := tinySpec(40)
	spec.Train.CheckpointEvery = 10
	ctx, cancel := context.WithCancel(context.Background())
	res, err := Run(ctx, spec, Options{DB: db, OutDir: out, OnStep: func(step int, _ map[string]float64) {
		if step == 25 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	return res
}

// TestResumeSkipsInterruptedCheckpointSave simulates a process killed in the
// middle of a checkpoint save (an empty .json beside a truncated .bin, as
// GoMLX's Save leaves them) and checks the resume uses the previous one.
func TestResumeSkipsInterruptedCheckpointSave(t *testing.T) {
	db, out := openDB(t), t.TempDir()
	res := interruptedRun(t, db, out)
	dir := filepath.Join(res.RunDir, "checkpoint")
	bad := filepath.Join(dir, "checkpoint-n0000099-20991231-000000-step-00000030")
	if err := os.WriteFile(bad+".bin", []byte("PK\x03\x04truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad+".json", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	resumed, err := Run(context.Background(), Spec{}, Options{DB: db, OutDir: out, Resume: res.RunID})
	if err != nil || resumed.Steps != 40 {
		t.Fatalf("resume past an interrupted save: %+v, %v", resumed, err)
	}
	if _, err := os.Stat(bad + ".json"); !os.IsNotExist(err) {
		t.Errorf("the interrupted checkpoint was not removed")
	}
	log, _ := os.ReadFile(filepath.Join(res.RunDir, "run.log"))
	if !strings.Contains(string(log), "dropped checkpoint") {
		t.Errorf("run.log does not say the interrupted checkpoint was dropped")
	}
}

// TestResumeFallsBackPastDamagedCheckpoint damages the newest checkpoint's
// data file behind a complete .json (as a crash or a full disk at the wrong
// moment, or a bad disk, leaves it): the resume must move it aside, resume
// from the one before, and still record every step exactly once.
func TestResumeFallsBackPastDamagedCheckpoint(t *testing.T) {
	db, out := openDB(t), t.TempDir()
	res := interruptedRun(t, db, out)
	dir := filepath.Join(res.RunDir, "checkpoint")
	names, err := checkpointNames(dir)
	if err != nil || len(names) != 2 || !strings.HasSuffix(names[1], "step-00000025") {
		t.Fatalf("checkpoints %v, %v: want steps 20 and 25", names, err)
	}
	bin := filepath.Join(dir, names[1]+".bin")
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	resumed, err := Run(context.Background(), Spec{}, Options{DB: db, OutDir: out, Resume: res.RunID})
	if err != nil || resumed.Steps != 40 || resumed.Status != "finished" {
		t.Fatalf("resume past a damaged checkpoint: %+v, %v", resumed, err)
	}
	log, _ := os.ReadFile(filepath.Join(res.RunDir, "run.log"))
	if !strings.Contains(string(log), "moved damaged checkpoint "+names[1]) || !strings.Contains(string(log), "from step 20") {
		t.Errorf("run.log does not say the damaged checkpoint was moved aside and the run resumed from step 20:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(dir, damagedDir, names[1]+".bin")); err != nil {
		t.Errorf("the damaged checkpoint was not kept in %s: %v", damagedDir, err)
	}
	h, _ := db.MetricHistory(res.RunID, "train/loss")
	if len(h) != 40 || h[0].Step != 1 || h[39].Step != 40 {
		t.Errorf("train/loss: %d points, want steps 1..40 once each", len(h))
	}
}

// TestNewRunNeverReusesAFolder: a database deleted while its runs folder is
// kept restarts ids at 1; the new run 1 must not load the old run 1's
// checkpoint.
func TestNewRunNeverReusesAFolder(t *testing.T) {
	out := t.TempDir()
	first, err := Run(context.Background(), tinySpec(8), Options{DB: openDB(t), OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Run(context.Background(), tinySpec(8), Options{DB: openDB(t), OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if first.RunID != second.RunID || first.RunDir == second.RunDir {
		t.Fatalf("runs %d and %d share folder %s", first.RunID, second.RunID, second.RunDir)
	}
	if second.Steps != 8 || second.TrainTime == 0 {
		t.Errorf("the second run did not train from scratch: %+v", second)
	}
}

func TestMedian(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, c := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {ms(5), 5 * time.Millisecond}, {ms(9, 1, 5), 5 * time.Millisecond}, {ms(4, 1, 3, 2), 3 * time.Millisecond}} {
		in := slices.Clone(c.in)
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("median reordered its input %v", in)
		}
	}
}

// TestRunFolderFromAnywhere: a run started with a relative --out must be
// resumable and loadable from another working directory. New runs record
// their folder absolute; a folder recorded relative (by older builds) is
// found beside the database.
func TestRunFolderFromAnywhere(t *testing.T) {
	home := t.TempDir()
	db, err := tracker.Open(filepath.Join(home, "vaexp.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t.Chdir(home)
	res, err := Run(context.Background(), tinySpec(8), Options{DB: db, OutDir: "runs"})
	if err != nil {
		t.Fatal(err)
	}
	if run, _ := db.Run(res.RunID); !filepath.IsAbs(run.RunDir) {
		t.Errorf("run folder recorded as %q, want an absolute path", run.RunDir)
	}
	// Record it the way older builds did.
	if err := db.SetStatus(res.RunID, tracker.StatusKilled, ""); err != nil {
		t.Fatal(err)
	}
	rec, err := db.ClaimRun(res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.SetRunDir(filepath.Join("runs", "1")); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(tracker.StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	tr, err := Load(db, res.RunID)
	if err != nil {
		t.Fatalf("load a run recorded with a relative folder, from elsewhere: %v", err)
	}
	if tr.Dir != filepath.Join(home, "runs", "1") {
		t.Errorf("run folder resolved to %s", tr.Dir)
	}
}

// TestStopAtPausesAndContinues runs a trial as successive halving does: it
// stops at a rung (status pruned, evaluated there, linked to its sweep),
// continues to the next with a larger stop, then to the spec's budget, and
// ends equal to an uninterrupted run.
func TestStopAtPausesAndContinues(t *testing.T) {
	db := openDB(t)
	out := t.TempDir()
	spec := tinySpec(30)
	spec.Data.Val = 200

	straight, err := Run(context.Background(), spec, Options{DB: db, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	var started int64
	rung0, err := Run(context.Background(), spec, Options{DB: db, OutDir: out, Sweep: "halving", StopAtStep: 10,
		OnStart: func(id int64) { started = id }})
	if err != nil || rung0.Status != "pruned" || rung0.Steps != 10 || started != rung0.RunID {
		t.Fatalf("rung 0: %+v, %v (OnStart got %d)", rung0, err, started)
	}
	if _, ok := rung0.Metrics["val/nelbo"]; !ok {
		t.Errorf("rung 0 metrics lack val/nelbo: %v", rung0.Metrics)
	}
	run, _ := db.Run(rung0.RunID)
	if run.Status != "pruned" || run.Sweep != "halving" {
		t.Errorf("run after rung 0: status %q sweep %q", run.Status, run.Sweep)
	}
	if v, step, _ := db.MetricValue(rung0.RunID, "test/nelbo"); step != 10 || math.IsNaN(v) {
		t.Errorf("test/nelbo at the rung: %v at step %d", v, step)
	}
	// One epoch here is 1024/64 = 16 steps: a stop of 1 epoch is step 16.
	rung1, err := Run(context.Background(), Spec{}, Options{DB: db, OutDir: out, Resume: rung0.RunID, StopAtEpoch: 1})
	if err != nil || rung1.Status != "pruned" || rung1.Steps != 16 {
		t.Fatalf("rung 1: %+v, %v", rung1, err)
	}
	top, err := Run(context.Background(), Spec{}, Options{DB: db, OutDir: out, Resume: rung0.RunID})
	if err != nil || top.Status != "finished" || top.Steps != 30 {
		t.Fatalf("top rung: %+v, %v", top, err)
	}
	h, _ := db.MetricHistory(top.RunID, "test/nelbo")
	if len(h) != 3 || h[0].Step != 10 || h[1].Step != 16 || h[2].Step != 30 {
		t.Errorf("test/nelbo history %v, want one value per rung (10, 16, 30)", h)
	}
	if a, b := top.Metrics["test/nelbo"], straight.Metrics["test/nelbo"]; math.Abs(a-b) > 1e-3 {
		t.Errorf("test/nelbo after rungs %.5f vs uninterrupted %.5f", a, b)
	}
}
