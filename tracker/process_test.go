package tracker

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment of the helper processes the multi-process tests start: they
// re-run this test binary with -test.run=^TestHelperWriter$.
const (
	envHelperDB   = "VAEXP_TEST_HELPER_DB"
	envHelperMode = "VAEXP_TEST_HELPER_MODE" // "write", "crash" or "open"
	envHelperID   = "VAEXP_TEST_HELPER_ID"
)

// Shape of each writer process's work.
const (
	writerRuns  = 5
	writerSteps = 150
	writerKeys  = 2  // train/loss, train/kl per step
	writerFlush = 10 // steps per explicit Flush: many short transactions
)

// TestHelperWriter is not a test: it is the body of the writer processes.
func TestHelperWriter(t *testing.T) {
	path := os.Getenv(envHelperDB)
	if path == "" {
		t.Skip("helper process for TestManyWriterProcesses and TestKilledWriter")
	}
	id, _ := strconv.Atoi(os.Getenv(envHelperID))
	switch os.Getenv(envHelperMode) {
	case "write":
		helperWrite(t, path, id)
	case "crash":
		helperCrash(t, path, id)
	case "open":
		helperOpen(t, path, id)
	default:
		t.Fatalf("unknown helper mode %q", os.Getenv(envHelperMode))
	}
}

// helperWrite records writerRuns complete runs, flushing often, and reads
// between writes as a CLI listing the database would.
func helperWrite(t *testing.T, path string, w int) {
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for r := range writerRuns {
		rec, err := db.StartRun(RunInfo{
			Experiment: "procs", Family: "vae", Sweep: "procs", Seed: int64(r),
			Name:   fmt.Sprintf("w%d-r%d", w, r),
			Params: map[string]any{"writer": w, "run": r, "beta": float64(1 + r%3)},
		})
		if err != nil {
			t.Fatal(err)
		}
		for s := range int64(writerSteps) {
			rec.LogMetrics(s, map[string]float64{"train/loss": float64(w*1000+r*10) + float64(s), "train/kl": float64(s)})
			if (s+1)%writerFlush == 0 {
				if err := rec.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := rec.SetTag("writer", strconv.Itoa(w)); err != nil {
			t.Fatal(err)
		}
		if err := rec.LogArtifact("log", 0, "text/plain", []byte(strings.Repeat("x", 4096))); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Runs().Where("sweep = 'procs' AND params.beta >= 2").OrderBy("metrics.train/loss").Limit(5).All(); err != nil {
			t.Fatal(err)
		}
		rec.LogMetric("test/nelbo", 0, float64(w)+float64(r)/10)
		if err := rec.Finish(StatusFinished, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// helperCrash starts a run, says "run <id>" on stdout once its first rows
// are on disk, then writes metrics and artifacts as fast as it can until
// it is killed.
func helperCrash(t *testing.T, path string, w int) {
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := db.StartRun(RunInfo{Experiment: "crash", Name: fmt.Sprintf("crash-%d", w), Params: map[string]any{"w": w}})
	if err != nil {
		t.Fatal(err)
	}
	blob := make([]byte, 256<<10)
	announced := false
	for s := int64(0); ; s++ {
		for k := range 20 {
			rec.LogMetric(fmt.Sprintf("train/m%d", k), s, float64(s))
		}
		if err := rec.Flush(); err != nil {
			t.Fatal(err)
		}
		if s%5 == 0 {
			blob[s%int64(len(blob))]++
			if err := rec.LogArtifact("blob", s, "application/octet-stream", blob); err != nil {
				t.Fatal(err)
			}
			if err := rec.Heartbeat(); err != nil {
				t.Fatal(err)
			}
		}
		if !announced {
			fmt.Printf("run %d\n", rec.RunID())
			announced = true
		}
	}
}

// helperOpen is one worker of a sweep starting on a new database: open it
// (creating and migrating it, racing the others), record one run, close.
func helperOpen(t *testing.T, path string, w int) {
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, err := db.StartRun(RunInfo{Experiment: "open", Name: fmt.Sprintf("open-%d", w)})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
}

func helperCmd(t *testing.T, path, mode string, id int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), envHelperDB+"="+path, envHelperMode+"="+mode, envHelperID+"="+strconv.Itoa(id))
	return cmd
}

// TestManyWriterProcesses starts 8 processes (VAEXP_TEST_WRITERS=N for
// more) that all open one new database at once (racing to create and
// migrate it) and each record complete runs with frequent short
// transactions, then checks that every row arrived: no "database is
// locked", nothing lost.
func TestManyWriterProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 8 processes")
	}
	writers := 8
	if n, err := strconv.Atoi(os.Getenv("VAEXP_TEST_WRITERS")); err == nil && n > writers {
		writers = n // a heavier run on demand
	}
	path := filepath.Join(t.TempDir(), "shared.db")
	start := time.Now()
	var wg sync.WaitGroup
	outs := make([][]byte, writers)
	errs := make([]error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[w], errs[w] = helperCmd(t, path, "write", w).CombinedOutput()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for w := range writers {
		if errs[w] != nil {
			t.Errorf("writer %d: %v\n%s", w, errs[w], outs[w])
		}
		if strings.Contains(string(outs[w]), "locked") || strings.Contains(string(outs[w]), "busy") {
			t.Errorf("writer %d reported lock errors:\n%s", w, outs[w])
		}
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runs := writers * writerRuns
	metricRows := runs * (writerSteps*writerKeys + 1)
	want := map[string]int{
		`SELECT count(*) FROM runs WHERE status = 'finished' AND sweep = 'procs'`: runs,
		`SELECT count(*) FROM params`:         runs * 3,
		`SELECT count(*) FROM metrics`:        metricRows,
		`SELECT count(*) FROM latest_metrics`: runs * (writerKeys + 1),
		`SELECT count(*) FROM tags`:           runs,
		`SELECT count(*) FROM artifacts`:      runs,
		`SELECT count(*) FROM experiments`:    1,
		// Every run's summary agrees with its history.
		`SELECT count(*) FROM latest_metrics lm WHERE lm.step = (SELECT max(step) FROM metrics m WHERE m.run_id = lm.run_id AND m.key = lm.key)
			AND lm.min_value = (SELECT min(value) FROM metrics m WHERE m.run_id = lm.run_id AND m.key = lm.key)`: runs * (writerKeys + 1),
	}
	lost := 0
	for q, n := range want {
		if got := countRows(t, db, q); got != n {
			t.Errorf("%s: %d, want %d", strings.Join(strings.Fields(q), " "), got, n)
			lost += n - got
		}
	}
	for w := range writers {
		if n, err := db.Runs().Where(fmt.Sprintf("params.writer = %d", w)).Count(); err != nil || n != writerRuns {
			t.Errorf("writer %d: %d runs, %v", w, n, err)
		}
	}
	t.Logf("%d writer processes × %d runs × %d metric rows (+params, tags, artifacts, reads): %d runs, %d metric rows in %v; lost rows: %d",
		writers, writerRuns, writerSteps*writerKeys+1, runs, metricRows, elapsed.Round(time.Millisecond), lost)
}

// TestConcurrentFirstOpen starts 8 processes at once on a database file
// that does not exist yet, as a sweep starts its workers, 30 times over on
// fresh paths: every process must open the file, see a complete schema and
// record its run (no "database is locked", no "tables but no version", no
// file deleted under another process), and the file must hold all 8 runs.
func TestConcurrentFirstOpen(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 240 processes")
	}
	const procs, rounds = 8, 30
	dir := t.TempDir()
	start := time.Now()
	for round := range rounds {
		path := filepath.Join(dir, fmt.Sprintf("fresh-%d.db", round))
		cmds := make([]*exec.Cmd, procs)
		outs := make([]strings.Builder, procs)
		for w := range cmds {
			cmds[w] = helperCmd(t, path, "open", w)
			cmds[w].Stdout, cmds[w].Stderr = &outs[w], &outs[w]
		}
		for w, c := range cmds { // started back to back, after every command is built
			if err := c.Start(); err != nil {
				t.Fatalf("round %d, process %d: %v", round, w, err)
			}
		}
		failed := false
		for w, c := range cmds {
			if err := c.Wait(); err != nil {
				t.Errorf("round %d, process %d: %v\n%s", round, w, err, outs[w].String())
				failed = true
			}
		}
		if failed {
			continue
		}
		db, err := Open(path)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if n := countRows(t, db, `SELECT count(*) FROM runs WHERE status = 'finished'`); n != procs {
			t.Errorf("round %d: %d finished runs, want %d", round, n, procs)
		}
		if v, err := db.SchemaVersion(); err != nil || v != currentVersion() {
			t.Errorf("round %d: schema version %d, %v", round, v, err)
		}
		db.Close()
	}
	t.Logf("%d rounds of %d processes opening a new database: %v", rounds, procs, time.Since(start).Round(time.Millisecond))
}

// TestKilledWriter SIGKILLs processes in the middle of writing metrics and
// 256 KiB artifacts, then checks the file is intact, each run is still
// 'running' with a dead pid and a heartbeat no newer than the kill, its
// metric summaries agree with its history (no half transaction), and
// MarkStale turns the runs into 'killed': by the dead pid, and by the
// heartbeat age for a run whose host is not this one.
func TestKilledWriter(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	db, err := Open(path) // created up front: the children race only to write
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	type victim struct {
		id     int64
		pid    int
		killed time.Time
	}
	var victims []victim
	for i, delay := range []time.Duration{0, 50 * time.Millisecond, 300 * time.Millisecond} {
		cmd := helperCmd(t, path, "crash", i)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child %d never announced its run: %v", i, err)
		}
		var id int64
		if _, err := fmt.Sscanf(line, "run %d", &id); err != nil {
			t.Fatalf("child %d said %q", i, line)
		}
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child %d ended with %v, not SIGKILL", i, err)
		}
		victims = append(victims, victim{id, cmd.Process.Pid, killed})
	}

	raw, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	raw.Close()

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, v := range victims {
		r, err := db.Run(v.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != StatusRunning || r.PID != v.pid || processAlive(v.pid) || r.HeartbeatAt.After(v.killed) {
			t.Errorf("run %d after SIGKILL: status %s pid %d (alive %v, want %d) heartbeat %v (killed at %v)",
				v.id, r.Status, r.PID, processAlive(r.PID), v.pid, r.HeartbeatAt, v.killed)
		}
		if n := countRows(t, db, `SELECT count(*) FROM latest_metrics lm WHERE lm.run_id = ?
			AND lm.step = (SELECT max(step) FROM metrics m WHERE m.run_id = lm.run_id AND m.key = lm.key)
			AND lm.step + 1 = (SELECT count(*) FROM metrics m WHERE m.run_id = lm.run_id AND m.key = lm.key)`, v.id); n != 20 {
			t.Errorf("run %d: %d of 20 metric summaries agree with their history", v.id, n)
		}
		var steps int64
		if err := db.sql.QueryRow(`SELECT min(step) FROM latest_metrics WHERE run_id = ?`, v.id).Scan(&steps); err != nil {
			t.Fatal(err)
		}
		t.Logf("run %d killed after %d complete flushes", v.id, steps+1)
	}
	// The last victim pretends to live on another host, where its pid means
	// nothing: only its silent heartbeat can tell.
	far := victims[len(victims)-1]
	if _, err := db.sql.Exec(`UPDATE runs SET host = 'elsewhere' WHERE id = ?`, far.id); err != nil {
		t.Fatal(err)
	}
	if got, err := db.MarkStale(time.Hour); err != nil || len(got) != len(victims)-1 {
		t.Fatalf("MarkStale(1h) = %v, %v; want the %d local runs", got, err, len(victims)-1)
	}
	age := time.Since(far.killed) / 2
	if got, err := db.MarkStale(age); err != nil || len(got) != 1 || got[0] != far.id {
		t.Fatalf("MarkStale(%v) = %v, %v; want [%d]", age, got, err, far.id)
	}
	for _, v := range victims {
		r, _ := db.Run(v.id)
		want := "exited without finishing"
		if v.id == far.id {
			want = "no heartbeat"
		}
		if r.Status != StatusKilled || !strings.Contains(r.Error, want) {
			t.Errorf("run %d: status %s error %q, want killed / %q", v.id, r.Status, r.Error, want)
		}
	}
	if n, err := db.Runs().Where("status = 'killed' AND experiment = 'crash'").Count(); err != nil || n != len(victims) {
		t.Errorf("killed runs listed: %d, %v", n, err)
	}
	// The file keeps working.
	rec, err := db.StartRun(RunInfo{Experiment: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
}
