package tracker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newTestSweep creates a sweep of n trials (config {"beta": i}, seed i%2).
func newTestSweep(t testing.TB, db *DB, name string, n int) Sweep {
	t.Helper()
	ns := NewSweep{Name: name, Method: "grid", Spec: "model: vae\n# " + name, Metric: "test/nelbo"}
	for i := range n {
		ns.Trials = append(ns.Trials, NewTrial{Index: i, Config: fmt.Sprintf(`{"beta": %d}`, i), Seed: int64(i % 2)})
	}
	s, created, err := db.CreateSweep(ns)
	if err != nil || !created {
		t.Fatalf("create sweep: %v, created %v", err, created)
	}
	return s
}

func TestCreateSweep(t *testing.T) {
	db, _ := openTemp(t)
	s := newTestSweep(t, db, "grid", 4)
	if s.Trials != 4 || s.Counts[TrialPending] != 4 || s.State != SweepCreated || s.Direction != "min" {
		t.Fatalf("sweep = %+v", s)
	}
	// The same spec again is the same sweep; another spec under that name is refused.
	again, created, err := db.CreateSweep(NewSweep{Name: "grid", Method: "grid", Spec: s.Spec})
	if err != nil || created || again.ID != s.ID {
		t.Errorf("second create = %+v, %v, %v", again, created, err)
	}
	_, _, err = db.CreateSweep(NewSweep{Name: "grid", Method: "grid", Spec: "other"})
	if err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), "sweep resume") {
		t.Errorf("different spec under the same name: %v", err)
	}
	if _, err := db.SweepByName("nosuch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown sweep: %v", err)
	}
	trials, err := db.Trials(s.ID)
	if err != nil || len(trials) != 4 {
		t.Fatal(trials, err)
	}
	p, err := trials[3].Params()
	if err != nil || p["beta"] != 3.0 || trials[3].Seed != 1 || !math.IsNaN(trials[3].Value) {
		t.Errorf("trial 3 = %+v, params %v, %v", trials[3], p, err)
	}
}

func TestTrialLifecycle(t *testing.T) {
	db, _ := openTemp(t)
	s := newTestSweep(t, db, "halving", 3)
	// A sweep nobody runs hands out nothing.
	if _, ok, err := db.ClaimTrial(s.ID, -1); ok || err != nil {
		t.Fatalf("claim on a created sweep: %v %v", ok, err)
	}
	if err := db.AcquireSweep(s.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	var got []int
	for {
		tr, ok, err := db.ClaimTrial(s.ID, -1)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if tr.State != TrialRunning || tr.WorkerPID != os.Getpid() {
			t.Errorf("claimed %+v", tr)
		}
		got = append(got, tr.Index)
	}
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("claimed %v", got)
	}
	rec, _ := db.StartRun(RunInfo{Sweep: "halving"})
	if err := db.LinkTrialRun(s.ID, 0, rec.RunID()); err != nil {
		t.Fatal(err)
	}
	for i, r := range []TrialResult{{State: TrialPaused, Value: 90, Step: 10}, {State: TrialPaused, Value: 80, Step: 10}, {State: TrialPending}} {
		if err := db.EndTrial(s.ID, i, r); err != nil {
			t.Fatal(err)
		}
	}
	// The best of the rung goes up one rung with a bigger budget; the other is pruned.
	if ok, err := db.PromoteTrial(s.ID, 1, 0, 30); !ok || err != nil {
		t.Fatalf("promote: %v %v", ok, err)
	}
	if ok, err := db.PromoteTrial(s.ID, 1, 0, 30); ok || err != nil {
		t.Errorf("promoting twice changed it again: %v %v", ok, err)
	}
	if ok, err := db.PruneTrial(s.ID, 0, 0); !ok || err != nil {
		t.Fatalf("prune: %v %v", ok, err)
	}
	// Promoted trials are claimed before lower rungs.
	tr, ok, err := db.ClaimTrial(s.ID, -1)
	if err != nil || !ok || tr.Index != 1 || tr.Rung != 1 || tr.Budget != 30 || tr.Value != 80 {
		t.Fatalf("claim after promotion = %+v %v %v", tr, ok, err)
	}
	if err := db.EndTrial(s.ID, 1, TrialResult{State: TrialFinished, Value: 70, Step: 30}); err != nil {
		t.Fatal(err)
	}
	trials, _ := db.Trials(s.ID)
	want := []struct {
		state string
		rung  int
		value float64
		run   int64
	}{{TrialPruned, 0, 90, rec.RunID()}, {TrialFinished, 1, 70, 0}, {TrialPending, 0, math.NaN(), 0}}
	for i, w := range want {
		tr := trials[i]
		if tr.State != w.state || tr.Rung != w.rung || tr.RunID != w.run || !(tr.Value == w.value || math.IsNaN(w.value) && math.IsNaN(tr.Value)) {
			t.Errorf("trial %d = %+v, want %+v", i, tr, w)
		}
	}
	rungs, err := db.Rungs(s.ID)
	if err != nil || len(rungs) != 3 || rungs[2] != (Rung{Index: 1, Rung: 1, Budget: 30, Step: 30, Value: 70}) {
		t.Errorf("rungs = %+v, %v", rungs, err)
	}
	// Claiming one trial by index: a finished one is returned as it is.
	tr, ok, err = db.ClaimTrial(s.ID, 1)
	if ok || err != nil || tr.State != TrialFinished {
		t.Errorf("claim of a finished trial = %+v %v %v", tr, ok, err)
	}
	if _, _, err := db.ClaimTrial(s.ID, 7); !errors.Is(err, ErrNotFound) {
		t.Errorf("claim of a missing trial: %v", err)
	}
	if err := db.ReleaseSweep(s.ID, SweepStopped); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Sweep(s.ID); s.State != SweepStopped || s.OwnerPID != 0 || s.Counts[TrialFinished] != 1 {
		t.Errorf("after release: %+v", s)
	}
}

// Environment of the sweep helper processes (TestHelperSweep).
const (
	envSweepDB   = "VAEXP_TEST_SWEEP_DB"
	envSweepMode = "VAEXP_TEST_SWEEP_MODE" // "claim", "hold" or "claim-exit"
)

// TestHelperSweep is not a test: it is the body of the sweep helper processes.
func TestHelperSweep(t *testing.T) {
	path := os.Getenv(envSweepDB)
	if path == "" {
		t.Skip("helper process for the sweep tests")
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.SweepByName("procs")
	if err != nil {
		t.Fatal(err)
	}
	switch os.Getenv(envSweepMode) {
	case "claim": // claim and end trials until none is left, printing each index
		for {
			tr, ok, err := db.ClaimTrial(s.ID, -1)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return
			}
			fmt.Printf("claimed %d\n", tr.Index)
			if err := db.EndTrial(s.ID, tr.Index, TrialResult{State: TrialFinished, Value: float64(tr.Index)}); err != nil {
				t.Fatal(err)
			}
		}
	case "hold": // take the sweep and keep it until killed
		if err := db.AcquireSweep(s.ID, time.Minute); err != nil {
			fmt.Println("busy:", err)
			return
		}
		fmt.Println("holding")
		time.Sleep(time.Minute)
	case "claim-exit": // claim one trial and exit without ending it, as a killed worker
		tr, ok, err := db.ClaimTrial(s.ID, -1)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		fmt.Printf("claimed %d\n", tr.Index)
	}
}

func sweepHelper(t *testing.T, path, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSweep$")
	cmd.Env = append(os.Environ(), envSweepDB+"="+path, envSweepMode+"="+mode)
	return cmd
}

// TestClaimsAcrossProcesses: 6 processes claim the trials of one sweep at
// once; every trial is claimed exactly once.
func TestClaimsAcrossProcesses(t *testing.T) {
	db, path := openTemp(t)
	const n = 60
	s := newTestSweep(t, db, "procs", n)
	if err := db.AcquireSweep(s.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 6 {
		cmd := sweepHelper(t, path, "claim")
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	count := map[int]int{}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outs[i])
		}
		for _, line := range strings.Split(outs[i].String(), "\n") {
			if idx, ok := strings.CutPrefix(line, "claimed "); ok {
				k, _ := strconv.Atoi(idx)
				count[k]++
			}
		}
	}
	for i := range n {
		if count[i] != 1 {
			t.Errorf("trial %d claimed %d times", i, count[i])
		}
	}
	if s, _ := db.Sweep(s.ID); s.Counts[TrialFinished] != n {
		t.Errorf("counts after the workers: %v", s.Counts)
	}
}

// TestAcquireSweepOneWins: a live controller in another process holds the
// sweep; once it is killed, the sweep can be taken over.
func TestAcquireSweepOneWins(t *testing.T) {
	db, path := openTemp(t)
	s := newTestSweep(t, db, "procs", 2)
	cmd := sweepHelper(t, path, "hold")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "holding" {
		t.Fatalf("helper said %q", line)
	}
	err := db.AcquireSweep(s.ID, time.Minute)
	if !errors.Is(err, ErrSweepBusy) || !strings.Contains(err.Error(), fmt.Sprint(cmd.Process.Pid)) {
		t.Fatalf("acquire while held: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if err := db.AcquireSweep(s.ID, time.Minute); err != nil {
		t.Fatalf("acquire after the holder died: %v", err)
	}
	if s, _ := db.Sweep(s.ID); s.OwnerPID != os.Getpid() || s.State != SweepRunning {
		t.Errorf("sweep after takeover: %+v", s)
	}
}

// TestReleaseDeadClaims: a worker that exits holding a trial leaves it
// running until the claim is released; then it is pending again.
func TestReleaseDeadClaims(t *testing.T) {
	db, path := openTemp(t)
	s := newTestSweep(t, db, "procs", 3)
	if err := db.AcquireSweep(s.ID, time.Minute); err != nil {
		t.Fatal(err)
	}
	out, err := sweepHelper(t, path, "claim-exit").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "claimed 0") {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	mine, ok, err := db.ClaimTrial(s.ID, -1) // trial 1, held by this live process
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	released, err := db.ReleaseDeadClaims(s.ID, false)
	if err != nil || !slices.Equal(released, []int{0}) {
		t.Fatalf("released %v, %v; want [0]", released, err)
	}
	if tr, _ := db.Trial(s.ID, 0); tr.State != TrialPending || tr.WorkerPID != 0 {
		t.Errorf("released trial = %+v", tr)
	}
	if tr, _ := db.Trial(s.ID, mine.Index); tr.State != TrialRunning {
		t.Errorf("a live claim was released: %+v", tr)
	}
}

// TestMigrationV4 opens a v3 file: its runs get uids, new runs get one from
// the trigger, and the sweep tables work.
func TestMigrationV4(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	raw, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(context.Background(), raw, 3); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO experiments(id, name, created_at) VALUES (1, 'old', 1)`,
		`INSERT INTO runs(id, experiment_id, started_at) VALUES (1, 1, 1), (2, 1, 2)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	uids := map[string]bool{}
	for _, id := range []int64{1, 2, rec.RunID()} {
		var uid string
		if err := db.sql.QueryRow(`SELECT uid FROM runs WHERE id = ?`, id).Scan(&uid); err != nil || len(uid) != 32 {
			t.Errorf("run %d uid %q, %v", id, uid, err)
		}
		uids[uid] = true
	}
	if len(uids) != 3 {
		t.Errorf("uids not distinct: %v", uids)
	}
	newTestSweep(t, db, "after-migration", 2)
}
