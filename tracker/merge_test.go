package tracker

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeRuns records n finished runs in db, each with steps metric rows per
// key, a tag and an artifact; names are prefix-<i>.
func writeRuns(t testing.TB, db *DB, prefix string, n, steps int, sweep string) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		rec, err := db.StartRun(RunInfo{Experiment: "merge", Name: fmt.Sprintf("%s-%d", prefix, i), Family: "vae", Sweep: sweep,
			Seed: int64(i), Params: map[string]any{"beta": float64(i), "src": prefix}})
		if err != nil {
			t.Fatal(err)
		}
		for s := range int64(steps) {
			rec.LogMetrics(s, map[string]float64{"train/loss": float64(100*i) + float64(s), "train/kl": float64(s)})
		}
		rec.LogMetric("test/nelbo", int64(steps), float64(i))
		if err := rec.SetTag("from", prefix); err != nil {
			t.Fatal(err)
		}
		if err := rec.LogArtifact("samples.png", int64(steps), "image/png", []byte(prefix)); err != nil {
			t.Fatal(err)
		}
		if err := rec.Finish(StatusFinished, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.RunID())
	}
	return ids
}

// runSummary lists every run of db as name → status, number of metric
// rows, test/nelbo, tag and artifact, for comparing databases.
func runSummary(t testing.TB, db *DB) map[string]string {
	t.Helper()
	out := map[string]string{}
	runs, err := db.ListRuns()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		var n int
		if err := db.sql.QueryRow(`SELECT count(*) FROM metrics WHERE run_id = ?`, r.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		v, _, _ := db.MetricValue(r.ID, "test/nelbo")
		tags, _ := db.Tags(r.ID)
		art, _, _ := db.Artifact(r.ID, "samples.png")
		ps, _ := db.Params(r.ID)
		out[r.Name] = fmt.Sprintf("%s %s rows=%d nelbo=%g tag=%s art=%s params=%d sweep=%s", r.Experiment, r.Status, n, v, tags["from"], art, len(ps), r.Sweep)
	}
	return out
}

func TestMergeIdempotentAndRemapped(t *testing.T) {
	dir := t.TempDir()
	target, _ := openTemp(t)
	writeRuns(t, target, "target", 1, 3, "")
	a, err := Open(filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	aIDs := writeRuns(t, a, "a", 3, 5, "grid")
	writeRuns(t, b, "b", 2, 4, "")
	// A sweep in a whose trials point at a's runs 2 and 3.
	s := newTestSweep(t, a, "grid", 3)
	a.AcquireSweep(s.ID, time.Minute)
	for i := range 2 {
		tr, _, _ := a.ClaimTrial(s.ID, -1)
		a.LinkTrialRun(s.ID, tr.Index, aIDs[i+1])
		a.EndTrial(s.ID, tr.Index, TrialResult{State: TrialFinished, Value: float64(i), Step: 5})
	}
	want := runSummary(t, target)
	for k, v := range runSummary(t, a) {
		want[k] = v
	}
	for k, v := range runSummary(t, b) {
		want[k] = v
	}
	a.Close()
	b.Close()

	srcs := []string{filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")}
	rep, err := target.Merge(srcs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RunsAdded != 5 || rep.RunsSkipped != 0 || rep.SweepsAdded != 1 || rep.Sources != 2 {
		t.Errorf("first merge: %+v", rep)
	}
	got := runSummary(t, target)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("merged runs:\n%v\nwant\n%v", got, want)
	}
	// New runs take the target's next ids, in source order: a's, then b's.
	runs, _ := target.Runs().OrderBy("id asc").All()
	var names []string
	for _, r := range runs {
		names = append(names, fmt.Sprintf("%d:%s", r.ID, r.Name))
	}
	if strings.Join(names, " ") != "1:target-0 2:a-0 3:a-1 4:a-2 5:b-0 6:b-1" {
		t.Errorf("ids after merge: %v", names)
	}
	// Trials point at the remapped runs.
	ms, err := target.SweepByName("grid")
	if err != nil {
		t.Fatal(err)
	}
	trials, _ := target.Trials(ms.ID)
	if trials[0].RunID != 3 || trials[1].RunID != 4 || trials[2].RunID != 0 || trials[0].State != TrialFinished || trials[2].State != TrialPending {
		t.Errorf("merged trials: %+v", trials)
	}
	if rungs, _ := target.Rungs(ms.ID); len(rungs) != 2 {
		t.Errorf("merged rungs: %+v", rungs)
	}

	// Again, and with the same file twice: nothing changes.
	rep, err = target.Merge(append(srcs, srcs[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.RunsAdded != 0 || rep.RunsUpdated != 0 || rep.RunsSkipped != 5 || rep.SweepsAdded != 0 || rep.TrialsUpdated != 0 || rep.Sources != 2 {
		t.Errorf("second merge: %+v", rep)
	}
	if again := runSummary(t, target); fmt.Sprint(again) != fmt.Sprint(want) {
		t.Errorf("second merge changed the runs:\n%v", again)
	}
}

// TestMergeUpdatesRunningRun: a run merged while still running is replaced
// by its finished state on the next merge, keeping its id.
func TestMergeUpdatesRunningRun(t *testing.T) {
	target, _ := openTemp(t)
	src, srcPath := openTemp(t)
	rec, err := src.StartRun(RunInfo{Name: "live"})
	if err != nil {
		t.Fatal(err)
	}
	rec.LogMetrics(1, map[string]float64{"loss": 3})
	rec.Flush()
	if _, err := target.Merge([]string{srcPath}, nil); err != nil {
		t.Fatal(err)
	}
	rec.LogMetrics(2, map[string]float64{"loss": 2})
	rec.Finish(StatusFinished, nil)
	rep, err := target.Merge([]string{srcPath}, nil)
	if err != nil || rep.RunsUpdated != 1 {
		t.Fatalf("second merge: %+v, %v", rep, err)
	}
	runs, _ := target.ListRuns()
	h, _ := target.MetricHistory(1, "loss")
	if len(runs) != 1 || runs[0].ID != 1 || runs[0].Status != StatusFinished || len(h) != 2 {
		t.Errorf("after update: %+v, history %v", runs, h)
	}
}

// TestMergeSweepTasks merges per-task databases as a Slurm job array leaves
// them: each holds the whole sweep with only its own trial done.
func TestMergeSweepTasks(t *testing.T) {
	dir := t.TempDir()
	target, _ := openTemp(t)
	var paths []string
	for i := range 3 {
		p := filepath.Join(dir, fmt.Sprintf("task-%d.db", i))
		db, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		s := newTestSweep(t, db, "array", 3)
		tr, ok, err := db.ClaimTrial(s.ID, i)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		ids := writeRuns(t, db, fmt.Sprintf("task%d", i), 1, 2, "array")
		db.LinkTrialRun(s.ID, tr.Index, ids[0])
		db.EndTrial(s.ID, tr.Index, TrialResult{State: TrialFinished, Value: float64(10 + i), Step: 2})
		db.Close()
		paths = append(paths, p)
	}
	if _, err := target.Merge(paths, nil); err != nil {
		t.Fatal(err)
	}
	s, err := target.SweepByName("array")
	if err != nil {
		t.Fatal(err)
	}
	trials, _ := target.Trials(s.ID)
	for i, tr := range trials {
		run, err := target.Run(tr.RunID)
		if tr.State != TrialFinished || tr.Value != float64(10+i) || err != nil || run.Name != fmt.Sprintf("task%d-0", i) {
			t.Errorf("trial %d = %+v, run %+v %v", i, tr, run, err)
		}
	}
	if s.State != SweepFinished || s.Counts[TrialFinished] != 3 {
		t.Errorf("merged sweep = %+v", s)
	}
}

func TestMergeRefusals(t *testing.T) {
	dir := t.TempDir()
	target, path := openTemp(t)
	writeRuns(t, target, "t", 1, 1, "")
	// The target itself, under another spelling of its path.
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, link} {
		_, err := target.Merge([]string{p}, nil)
		if err == nil || !strings.Contains(err.Error(), "is the target database") {
			t.Errorf("merge %s into itself: %v", p, err)
		}
	}
	if _, err := target.Merge([]string{filepath.Join(dir, "missing.db")}, nil); err == nil || !strings.Contains(err.Error(), "missing.db") {
		t.Errorf("missing source: %v", err)
	}
	// Two sweeps of one name with different specs: refused, and the good
	// source before it is not merged either (all or nothing).
	good, err := Open(filepath.Join(dir, "good.db"))
	if err != nil {
		t.Fatal(err)
	}
	writeRuns(t, good, "good", 2, 2, "")
	good.Close()
	bad, err := Open(filepath.Join(dir, "bad.db"))
	if err != nil {
		t.Fatal(err)
	}
	bad.CreateSweep(NewSweep{Name: "s", Method: "grid", Spec: "one"})
	bad.Close()
	target.CreateSweep(NewSweep{Name: "s", Method: "grid", Spec: "two"})
	before := runSummary(t, target)
	_, err = target.Merge([]string{filepath.Join(dir, "good.db"), filepath.Join(dir, "bad.db")}, nil)
	if err == nil || !strings.Contains(err.Error(), "different specs") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Errorf("conflicting sweeps: %v", err)
	}
	if after := runSummary(t, target); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a failed merge changed the target:\n%v\nwas\n%v", after, before)
	}
}

// Environment of the merge helper process (TestHelperMerge).
const (
	envMergeInto = "VAEXP_TEST_MERGE_INTO"
	envMergeFrom = "VAEXP_TEST_MERGE_FROM"
)

// TestHelperMerge is not a test: it merges one file into another, printing
// progress lines, for TestMergeKilled.
func TestHelperMerge(t *testing.T) {
	into := os.Getenv(envMergeInto)
	if into == "" {
		t.Skip("helper process for TestMergeKilled")
	}
	db, err := Open(into)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rep, err := db.Merge([]string{os.Getenv(envMergeFrom)}, func(s string) { fmt.Println(s) })
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("merged %+v\n", rep)
}

// TestMergeKilled kills a merging process with SIGKILL in the middle of its
// transaction: the target is left exactly as before and intact, and a
// second merge then copies everything.
func TestMergeKilled(t *testing.T) {
	dir := t.TempDir()
	srcPath := filepath.Join(dir, "big.db")
	src, err := Open(srcPath)
	if err != nil {
		t.Fatal(err)
	}
	writeRuns(t, src, "big", 250, 400, "")
	want := runSummary(t, src)
	src.Close()
	target, path := openTemp(t)
	writeRuns(t, target, "target", 2, 3, "")
	before := runSummary(t, target)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMerge$")
	cmd.Env = append(os.Environ(), envMergeInto+"="+path, envMergeFrom+"="+srcPath)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "merged") {
			break
		}
		if strings.Contains(line, "100 of 250 runs") {
			cmd.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	cmd.Wait()
	if !killed {
		t.Fatal("the merge finished before it could be killed; make the source bigger")
	}
	if after := runSummary(t, target); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a killed merge changed the target: %d runs, was %d", len(after), len(before))
	}
	var ok string
	if err := target.sql.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity after the kill: %q %v", ok, err)
	}
	if _, err := target.Merge([]string{srcPath}, nil); err != nil {
		t.Fatal(err)
	}
	got := runSummary(t, target)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("run %s after the second merge: %q, want %q", k, got[k], v)
			break
		}
	}
	if len(got) != len(want)+len(before) {
		t.Errorf("%d runs after the second merge, want %d", len(got), len(want)+len(before))
	}
}
