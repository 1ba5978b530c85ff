package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vaexp/vaexp/tracker"
)

// tinySweep is a grid of trials of a few seconds each, checkpointed often.
const tinySweep = `name: tiny
model: vae
data: {limit: 1024, test_limit: 200}
train: {steps: %d, batch_size: 128, checkpoint_every: 10}
eval: {samples: 0}
method: grid
space:
  latent_dim: [2, 4, 8]
seeds: 2
`

// watched is a vaexp process whose stderr lines are collected as they come.
type watched struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	stdout strings.Builder
	done   chan struct{}
	err    error
}

func startWatched(t *testing.T, bin string, args ...string) *watched {
	t.Helper()
	w := &watched{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	w.cmd.Stdout = &w.stdout
	pipe, err := w.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			w.mu.Lock()
			w.lines = append(w.lines, sc.Text())
			w.mu.Unlock()
		}
		w.err = w.cmd.Wait()
		close(w.done)
	}()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = w.cmd.Process.Kill()
			<-w.done
		}
	})
	return w
}

// waitFor waits until a stderr line matches re and returns its submatches.
func (w *watched) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for seen := 0; time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		w.mu.Lock()
		lines := w.lines
		w.mu.Unlock()
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				return m
			}
		}
		select {
		case <-w.done:
			t.Fatalf("vaexp exited (%v) before printing %q:\n%s", w.err, re, w.stderr())
		default:
		}
	}
	t.Fatalf("no line %q after 3 minutes:\n%s", re, w.stderr())
	return nil
}

func (w *watched) stderr() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.lines, "\n")
}

// wait returns the exit status.
func (w *watched) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-w.done:
		return w.cmd.ProcessState.ExitCode()
	case <-time.After(5 * time.Minute):
		t.Fatalf("vaexp did not exit:\n%s", w.stderr())
		return -1
	}
}

// sweepDir holds a test sweep: its spec, database and runs folder.
type sweepDir struct{ dir, spec, db, runs string }

func newSweepDir(t *testing.T, steps int) sweepDir {
	d := t.TempDir()
	s := sweepDir{dir: d, spec: filepath.Join(d, "tiny.yaml"), db: filepath.Join(d, "vaexp.db"), runs: filepath.Join(d, "runs")}
	if err := os.WriteFile(s.spec, []byte(fmt.Sprintf(tinySweep, steps)), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s sweepDir) args(args ...string) []string {
	return append([]string{"--db", s.db, "--out", s.runs}, args...)
}

// trialRuns checks every trial of sweep 1 finished with exactly one run of
// the sweep per trial, and returns trial index → run.
func trialRuns(t *testing.T, dbPath string, n int) map[int]tracker.Run {
	t.Helper()
	db, err := tracker.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	trials, err := db.Trials(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != n {
		t.Fatalf("%d trials, want %d", len(trials), n)
	}
	out := map[int]tracker.Run{}
	seen := map[int64]int{}
	for _, tr := range trials {
		if tr.State != tracker.TrialFinished || tr.RunID == 0 || !finiteValue(tr.Value) {
			t.Errorf("trial %d: %+v, want finished with a run and a value", tr.Index, tr)
			continue
		}
		if prev, dup := seen[tr.RunID]; dup {
			t.Errorf("trials %d and %d share run %d", prev, tr.Index, tr.RunID)
		}
		seen[tr.RunID] = tr.Index
		r, err := db.Run(tr.RunID)
		if err != nil || r.Status != tracker.StatusFinished || r.Sweep != "tiny" || r.Name != fmt.Sprintf("tiny-%d", tr.Index) {
			t.Errorf("trial %d run: %+v, %v", tr.Index, r, err)
		}
		out[tr.Index] = r
	}
	// No trial ran twice: the sweep has exactly one run per trial.
	if ids, err := db.Runs().Where("sweep = 'tiny'").IDs(); err != nil || len(ids) != n {
		t.Errorf("the sweep has runs %v (%v), want one per trial (%d)", ids, err, n)
	}
	return out
}

// alive reports whether a process exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// workerPIDs returns the pids holding trials of sweep 1.
func workerPIDs(t *testing.T, dbPath string) []int {
	db, err := tracker.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	trials, _ := db.Trials(1)
	var pids []int
	for _, tr := range trials {
		if tr.State == tracker.TrialRunning {
			pids = append(pids, tr.WorkerPID)
		}
	}
	return pids
}

// checkpointedWorker waits until a running trial has saved a checkpoint and
// has not reached its final evaluation, and returns its worker's pid: a
// SIGKILL then interrupts a trial that can continue from its checkpoint.
// (A fixed sleep could land between two trials, or before a new trial's
// first checkpoint, and the trial would rightly start over.)
func checkpointedWorker(t *testing.T, s sweepDir) int {
	t.Helper()
	db, err := tracker.Open(s.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		trials, _ := db.Trials(1)
		for _, tr := range trials {
			if tr.State != tracker.TrialRunning || tr.RunID == 0 {
				continue
			}
			r, err := db.Run(tr.RunID)
			if err != nil || r.RunDir == "" {
				continue
			}
			log, _ := os.ReadFile(filepath.Join(r.RunDir, "run.log"))
			if completeCheckpoint(filepath.Join(r.RunDir, "checkpoint")) && !strings.Contains(string(log), "test:") {
				return tr.WorkerPID
			}
		}
	}
	t.Fatal("no running trial saved a checkpoint within 2 minutes")
	return 0
}

// completeCheckpoint says whether dir holds a checkpoint whose save
// finished: GoMLX creates the .json first, writes the .bin, then fills the
// .json, so a .json that is valid JSON beside its .bin is complete.
func completeCheckpoint(dir string) bool {
	jsons, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*.json"))
	for _, j := range jsons {
		raw, err := os.ReadFile(j)
		if _, berr := os.Stat(strings.TrimSuffix(j, ".json") + ".bin"); err == nil && berr == nil && json.Valid(raw) {
			return true
		}
	}
	return false
}

var (
	finishedLine = regexp.MustCompile(`trial (\d+) finished`)
	runningLine  = regexp.MustCompile(`trial (\d+) running`)
	resumedLine  = regexp.MustCompile(`resuming run (\d+) from step (\d+)`)
	// continuedLine is any continuation of a run: from a checkpoint's step, or from the start.
	continuedLine = regexp.MustCompile(`resuming run (\d+)(?: from step (\d+)|: no checkpoint yet)`)
)

// TestSweepKillControllerThenResume kills the controller with SIGKILL while
// trials run: its workers notice, save their checkpoints and stop; `sweep
// resume` then finishes the sweep, continuing the interrupted trials from
// their checkpoints, never running a finished trial again, and leaving one
// run per trial.
func TestSweepKillControllerThenResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains")
	}
	bin := buildVaexp(t)
	s := newSweepDir(t, 160)
	ctl := startWatched(t, bin, s.args("sweep", "run", s.spec, "--workers", "2")...)
	ctl.waitFor(t, finishedLine)
	ctl.waitFor(t, runningLine)
	checkpointedWorker(t, s) // a trial is under way, with a checkpoint
	pids := workerPIDs(t, s.db)
	if len(pids) == 0 {
		t.Fatalf("no trial running at the kill:\n%s", ctl.stderr())
	}
	if err := ctl.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctl.wait(t)
	// The orphaned workers stop on their own, saving their checkpoints.
	for deadline := time.Now().Add(time.Minute); slices.ContainsFunc(pids, alive); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("workers %v still alive a minute after their controller was killed", pids)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(s.runs, "sweep-1", "worker-*.log"))
	var gone bool
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		gone = gone || strings.Contains(string(b), "the controller (pid")
	}
	if !gone {
		t.Errorf("no worker log says the controller was gone (%v)", logs)
	}
	db, err := tracker.Open(s.db)
	if err != nil {
		t.Fatal(err)
	}
	before := map[int]tracker.Run{}
	trials, _ := db.Trials(1)
	interrupted := 0
	for _, tr := range trials {
		if tr.State == tracker.TrialFinished {
			before[tr.Index], _ = db.Run(tr.RunID)
		} else if tr.RunID != 0 {
			interrupted++
		}
	}
	db.Close()
	if len(before) == 0 || interrupted == 0 {
		t.Fatalf("at the kill: %d finished, %d interrupted trials; want some of each", len(before), interrupted)
	}

	res := startWatched(t, bin, s.args("sweep", "resume", "1", "--workers", "2")...)
	if code := res.wait(t); code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, res.stdout.String(), res.stderr())
	}
	after := trialRuns(t, s.db, 6)
	for i, r := range before {
		if after[i].ID != r.ID || !after[i].EndedAt.Equal(r.EndedAt) {
			t.Errorf("finished trial %d was run again: run %d ended %v, now run %d ended %v", i, r.ID, r.EndedAt, after[i].ID, after[i].EndedAt)
		}
	}
	// Every interrupted trial continues its own run; the one known to have
	// a checkpoint at the kill continues from a later step than 0 (a trial
	// that had just started may rightly continue from step 0).
	resumed, fromCheckpoint := 0, 0
	for _, r := range after {
		b, _ := os.ReadFile(filepath.Join(r.RunDir, "run.log"))
		if m := continuedLine.FindStringSubmatch(string(b)); m != nil {
			resumed++
			if m[2] != "" && m[2] != "0" {
				fromCheckpoint++
			}
		}
	}
	if resumed < interrupted || fromCheckpoint == 0 {
		t.Errorf("%d runs resumed (%d from a step after 0), want the %d interrupted ones, one at least from a checkpoint", resumed, fromCheckpoint, interrupted)
	}
	if !strings.Contains(res.stdout.String(), "sweep 1 tiny finished") {
		t.Errorf("resume output:\n%s", res.stdout.String())
	}
}

// TestSweepKillWorker kills one worker process with SIGKILL mid-trial: the
// controller hands its trial to a new worker, which continues it from its
// checkpoint; the sweep finishes with one run per trial.
func TestSweepKillWorker(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains")
	}
	bin := buildVaexp(t)
	s := newSweepDir(t, 160)
	ctl := startWatched(t, bin, s.args("sweep", "run", s.spec, "--workers", "2", "--quiet")...)
	ctl.waitFor(t, runningLine)
	pid := checkpointedWorker(t, s)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ctl.waitFor(t, regexp.MustCompile(`worker \d \(pid \d+\) died .*continues from its checkpoint; restarting it`))
	if code := ctl.wait(t); code != 0 {
		t.Fatalf("sweep run: exit %d\n%s", code, ctl.stderr())
	}
	runs := trialRuns(t, s.db, 6)
	resumed := 0
	for _, r := range runs {
		b, _ := os.ReadFile(filepath.Join(r.RunDir, "run.log"))
		if resumedLine.Match(b) {
			resumed++
		}
	}
	if resumed != 1 {
		t.Errorf("%d runs were resumed, want the killed worker's one", resumed)
		for _, r := range runs {
			b, _ := os.ReadFile(filepath.Join(r.RunDir, "run.log"))
			t.Logf("run %d:\n%s", r.ID, b)
		}
		t.Logf("controller:\n%s", ctl.stderr())
	}
}

// TestSweepInterruptAndTwoResumes stops a sweep with SIGINT (as Ctrl-C
// does): it says how to resume; then two `sweep resume` start at once and
// exactly one runs the sweep while the other is refused.
func TestSweepInterruptAndTwoResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains")
	}
	bin := buildVaexp(t)
	s := newSweepDir(t, 120)
	ctl := startWatched(t, bin, s.args("sweep", "run", s.spec, "--workers", "2")...)
	ctl.waitFor(t, runningLine)
	time.Sleep(500 * time.Millisecond)
	ctl.cmd.Process.Signal(os.Interrupt)
	if code := ctl.wait(t); code != 1 {
		t.Errorf("interrupted sweep: exit %d, want 1", code)
	}
	if out := ctl.stdout.String(); !strings.Contains(out, "sweep 1 tiny stopped") || !strings.Contains(out, "sweep resume 1") {
		t.Errorf("interrupted sweep output does not say how to resume:\n%s", out)
	}
	db, err := tracker.Open(s.db)
	if err != nil {
		t.Fatal(err)
	}
	sw, _ := db.Sweep(1)
	if sw.State != tracker.SweepStopped || sw.Counts[tracker.TrialRunning] != 0 || sw.OwnerPID != 0 {
		t.Errorf("sweep after the interrupt: %+v", sw)
	}
	db.Close()

	a := startWatched(t, bin, s.args("sweep", "resume", "1", "--workers", "1")...)
	b := startWatched(t, bin, s.args("sweep", "resume", "tiny", "--workers", "1")...)
	codes := []int{a.wait(t), b.wait(t)}
	slices.Sort(codes)
	if !slices.Equal(codes, []int{0, 1}) {
		t.Fatalf("two resumes exited %v, want one 0 and one 1\nA:\n%s\nB:\n%s", codes, a.stderr(), b.stderr())
	}
	loser := a
	if a.cmd.ProcessState.ExitCode() == 0 {
		loser = b
	}
	if msg := loser.stderr(); !strings.Contains(msg, "is being run by pid") {
		t.Errorf("the refused resume says:\n%s", msg)
	}
	trialRuns(t, s.db, 6)
}

// TestSweepTrialsAndMerge runs every trial as a job-array task would, each
// into its own database, merges them (twice: idempotent) and checks the
// merged sweep; a database is never merged into itself.
func TestSweepTrialsAndMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains")
	}
	bin := buildVaexp(t)
	s := newSweepDir(t, 20)
	var dbs []string
	for i := range 6 {
		db := filepath.Join(s.dir, fmt.Sprintf("task-%d.db", i))
		out, stderr, code := runVaexp(t, bin, "--db", db, "--out", filepath.Join(s.dir, fmt.Sprintf("task-%d", i)),
			"sweep", "trial", s.spec, "--index", fmt.Sprint(i))
		if code != 0 || !strings.Contains(out, fmt.Sprintf("trial %d finished (run 1)", i)) {
			t.Fatalf("trial %d: exit %d\n%s\n%s", i, code, out, stderr)
		}
		dbs = append(dbs, db)
	}
	// Again: nothing to do.
	if out, _, code := runVaexp(t, bin, "--db", dbs[2], "sweep", "trial", s.spec, "--index", "2"); code != 0 || !strings.Contains(out, "already finished") {
		t.Errorf("trial 2 again: exit %d, %s", code, out)
	}
	for range 2 {
		out, stderr, code := runVaexp(t, bin, append(append([]string{"tracker", "merge"}, dbs...), "--into", s.db, "-q")...)
		if code != 0 {
			t.Fatalf("merge: exit %d\n%s%s", code, out, stderr)
		}
	}
	trialRuns(t, s.db, 6)
	out, _, code := runVaexp(t, bin, "--db", s.db, "sweep", "status", "tiny")
	if code != 0 || !strings.Contains(out, "6 finished") || strings.Count(out, " finished ") != 6 {
		t.Errorf("status after merge: exit %d\n%s", code, out)
	}
	_, stderr, code := runVaexp(t, bin, "tracker", "merge", dbs[0], s.db, "--into", s.db)
	if code != 2 || !strings.Contains(stderr, "is the target database") {
		t.Errorf("merge into itself: exit %d, %s", code, stderr)
	}
}

// TestSweepSpecErrors: a bad spec is a usage error (exit 2) with
// file:line:column, and nothing is created.
func TestSweepSpecErrors(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "bad.yaml")
	os.WriteFile(spec, []byte("model: vae\nmethod: grid\nspace:\n  latent_dim: []\n"), 0o644)
	db := filepath.Join(dir, "vaexp.db")
	var stdout, stderr strings.Builder
	code := run([]string{"--db", db, "sweep", "run", spec}, strings.NewReader(""), &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), spec+":4:15: latent_dim: empty list") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a bad spec created the database")
	}
}
