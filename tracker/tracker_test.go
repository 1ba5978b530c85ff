package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTemp(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vaexp.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func pngBytes(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 4)
	}
	img.Set(3, 3, color.White)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	db, path := openTemp(t)
	params := map[string]any{
		"lr":      0.001,
		"epochs":  10,
		"big":     int64(1) << 60,
		"opt":     "adam",
		"amsgrad": true,
		"beta":    float32(4),
		"warmup":  90 * time.Second, // a Stringer: stored as "1m30s"
		"nanp":    math.NaN(),
	}
	rec, err := db.StartRun(RunInfo{
		Experiment: "mnist", Name: "vae-1", Family: "vae", Backend: "go", Command: "vaexp train",
		GitCommit: "abc123", RunDir: "runs/1", Seed: 7, Params: params,
	})
	if err != nil {
		t.Fatal(err)
	}
	const steps, workers = 50, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range int64(steps) {
				rec.LogMetric(fmt.Sprintf("w%d", w), s, float64(w)*1000+float64(s))
				rec.LogMetrics(s, map[string]float64{fmt.Sprintf("m%d/a", w): -float64(s), fmt.Sprintf("m%d/b", w): 0.5})
			}
		}()
	}
	wg.Wait()
	rec.LogMetric("odd", 0, math.Inf(1))
	rec.LogMetric("odd", 1, math.NaN())
	rec.LogMetric("odd", 2, -3)
	pic := pngBytes(t)
	if err := rec.LogArtifact("samples", 10, "image/png", []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := rec.LogArtifact("samples", 20, "image/png", pic); err != nil {
		t.Fatal(err)
	}
	if err := rec.SetTag("note", "baseline"); err != nil {
		t.Fatal(err)
	}
	if err := rec.SetParam("epochs", 12); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(StatusFailed, errors.New("late")); err != nil {
		t.Fatalf("second Finish: %v", err)
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	id := rec.RunID()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run, err := db.Run(id)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	want := Run{ID: id, Experiment: "mnist", Name: "vae-1", Family: "vae", Status: StatusFinished, Seed: 7,
		Backend: "go", Command: "vaexp train", GitCommit: "abc123", Host: host, RunDir: "runs/1", PID: os.Getpid()}
	got := run
	got.StartedAt, got.EndedAt, got.HeartbeatAt = time.Time{}, time.Time{}, time.Time{}
	if got != want {
		t.Errorf("run = %+v\nwant %+v", got, want)
	}
	if run.StartedAt.IsZero() || run.EndedAt.Before(run.StartedAt) || time.Since(run.StartedAt) > time.Minute {
		t.Errorf("times: started %v ended %v", run.StartedAt, run.EndedAt)
	}

	ps, err := db.Params(id)
	if err != nil {
		t.Fatal(err)
	}
	wantParams := []Param{
		{"amsgrad", "bool", true}, {"beta", "float", 4.0}, {"big", "int", int64(1) << 60},
		{"epochs", "int", int64(12)}, {"lr", "float", 0.001}, {"nanp", "float", math.NaN()},
		{"opt", "string", "adam"}, {"warmup", "string", "1m30s"},
	}
	if len(ps) != len(wantParams) {
		t.Fatalf("params = %v, want %v", ps, wantParams)
	}
	for i, p := range ps {
		w := wantParams[i]
		if f, ok := w.Value.(float64); ok && math.IsNaN(f) {
			if g, ok := p.Value.(float64); !ok || !math.IsNaN(g) || p.Key != w.Key {
				t.Errorf("param %d = %#v, want %#v", i, p, w)
			}
			continue
		}
		if !reflect.DeepEqual(p, w) {
			t.Errorf("param %d = %#v, want %#v", i, p, w)
		}
	}

	tags, err := db.Tags(id)
	if err != nil || !reflect.DeepEqual(tags, map[string]string{"note": "baseline"}) {
		t.Errorf("tags = %v, %v", tags, err)
	}

	keys, err := db.MetricKeys(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != workers*3+1 || keys[0] != "m0/a" || keys[len(keys)-1] != "w3" {
		t.Errorf("metric keys = %v", keys)
	}
	for w := range workers {
		h, err := db.MetricHistory(id, fmt.Sprintf("w%d", w))
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != steps {
			t.Fatalf("w%d: %d points, want %d", w, len(h), steps)
		}
		for s, p := range h {
			if p.Step != int64(s) || p.Value != float64(w)*1000+float64(s) || p.Time.IsZero() {
				t.Errorf("w%d point %d = %+v", w, s, p)
			}
		}
	}
	odd, err := db.MetricHistory(id, "odd")
	if err != nil {
		t.Fatal(err)
	}
	if len(odd) != 3 || !math.IsInf(odd[0].Value, 1) || !math.IsNaN(odd[1].Value) || odd[2].Value != -3 {
		t.Errorf("odd history = %+v", odd)
	}

	latest, err := db.LatestMetrics(id)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]LatestMetric{}
	for _, m := range latest {
		byKey[m.Key] = m
	}
	if m := byKey["w2"]; m != (LatestMetric{"w2", steps - 1, 2000 + steps - 1, 2000, 2000 + steps - 1}) {
		t.Errorf("latest w2 = %+v", m)
	}
	if m := byKey["m1/a"]; m != (LatestMetric{"m1/a", steps - 1, -(steps - 1), -(steps - 1), 0}) {
		t.Errorf("latest m1/a = %+v", m)
	}
	if m := byKey["odd"]; m.Step != 2 || m.Value != -3 || m.Min != -3 || !math.IsInf(m.Max, 1) {
		t.Errorf("latest odd = %+v", m)
	}

	arts, err := db.Artifacts(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(arts) != 2 || arts[0].Step != 10 || arts[1].Step != 20 || arts[1].Size != len(pic) || arts[1].MIME != "image/png" {
		t.Errorf("artifacts = %+v", arts)
	}
	data, info, err := db.Artifact(id, "samples")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, pic) || info.Step != 20 || info.Size != len(pic) {
		t.Errorf("artifact = %d bytes, %+v", len(data), info)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("artifact is not a PNG any more: %v", err)
	}
}

func countRows(t *testing.T, db *DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func latestOf(t *testing.T, db *DB, id int64, key string) LatestMetric {
	t.Helper()
	ms, err := db.LatestMetrics(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Key == key {
			return m
		}
	}
	t.Fatalf("no latest metric %q in %+v", key, ms)
	return LatestMetric{}
}

func TestReplaceAfterDelete(t *testing.T) {
	db, _ := openTemp(t)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Finish(StatusFinished, nil)
	id := rec.RunID()
	for s := range int64(10) {
		rec.LogMetric("loss", s, float64(10-s)) // 10 .. 1
	}
	rec.LogMetric("acc", 9, 0.9)
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	if m := latestOf(t, db, id, "loss"); m != (LatestMetric{"loss", 9, 1, 1, 10}) {
		t.Fatalf("before delete: %+v", m)
	}

	// Resume from a checkpoint at step 4: steps 5..9 are replayed.
	rec.LogMetric("loss", 8, -1) // pending, also past the checkpoint
	if err := rec.DeleteMetricsAfter(4); err != nil {
		t.Fatal(err)
	}
	if m := latestOf(t, db, id, "loss"); m != (LatestMetric{"loss", 4, 6, 6, 10}) {
		t.Errorf("after delete: %+v", m)
	}
	if keys, _ := db.MetricKeys(id); !reflect.DeepEqual(keys, []string{"loss"}) {
		t.Errorf("keys after delete = %v (acc had only step 9)", keys)
	}
	for s := int64(3); s < 10; s++ { // 3 and 4 overlap what is already stored
		rec.LogMetric("loss", s, 100+float64(s))
	}
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, db, `SELECT count(*) FROM metrics WHERE run_id = ? AND key = 'loss'`, id); n != 10 {
		t.Errorf("%d loss rows, want 10", n)
	}
	if n := countRows(t, db, `SELECT count(*) FROM (SELECT step FROM metrics WHERE run_id = ? GROUP BY key, step HAVING count(*) > 1)`, id); n != 0 {
		t.Errorf("%d duplicated steps", n)
	}
	// Steps 0..2 keep 10, 9, 8; steps 3..9 are now 103..109.
	if m := latestOf(t, db, id, "loss"); m != (LatestMetric{"loss", 9, 109, 8, 109}) {
		t.Errorf("after replay: %+v", m)
	}

	// Replacing the minimum with a larger value must raise min_value.
	rec.LogMetric("loss", 2, 50)
	rec.LogMetric("loss", 2, 60) // twice in one batch: last wins
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	if m := latestOf(t, db, id, "loss"); m != (LatestMetric{"loss", 9, 109, 9, 109}) {
		t.Errorf("after replacing step 2: %+v", m)
	}
	h, _ := db.MetricHistory(id, "loss")
	if len(h) != 10 || h[2].Value != 60 {
		t.Errorf("history = %+v", h)
	}
}

func TestResume(t *testing.T) {
	db, _ := openTemp(t)
	rec, err := db.StartRun(RunInfo{Family: "ae"})
	if err != nil {
		t.Fatal(err)
	}
	id := rec.RunID()
	if err := rec.Finish(StatusFailed, errors.New("out of memory")); err != nil {
		t.Fatal(err)
	}
	run, _ := db.Run(id)
	if run.Status != StatusFailed || run.Error != "out of memory" || run.EndedAt.IsZero() || run.Name != fmt.Sprintf("run-%d", id) || run.Experiment != "default" {
		t.Fatalf("after failure: %+v", run)
	}
	rec2, err := db.ResumeRun(id)
	if err != nil {
		t.Fatal(err)
	}
	run, _ = db.Run(id)
	if run.Status != StatusRunning || run.Error != "" || !run.EndedAt.IsZero() {
		t.Errorf("after resume: %+v", run)
	}
	if err := rec2.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	if run, _ = db.Run(id); run.Status != StatusFinished {
		t.Errorf("status = %q", run.Status)
	}
	if runs, err := db.ListRuns(); err != nil || len(runs) != 1 || runs[0].ID != id {
		t.Errorf("ListRuns = %+v, %v", runs, err)
	}
}

func TestListRunsNewestFirst(t *testing.T) {
	db, _ := openTemp(t)
	var ids []int64
	for range 3 {
		rec, err := db.StartRun(RunInfo{Experiment: "e"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rec.RunID())
		rec.Finish(StatusPruned, nil)
	}
	runs, err := db.ListRuns()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].ID != ids[2] || runs[2].ID != ids[0] {
		t.Errorf("order = %v, want newest of %v first", runs, ids)
	}
}

func TestBackgroundFlushAndHeartbeat(t *testing.T) {
	db, _ := openTemp(t)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Finish(StatusFinished, nil)
	rec.LogMetric("loss", 1, 2)
	deadline := time.Now().Add(10 * time.Second)
	for {
		h, err := db.MetricHistory(rec.RunID(), "loss")
		if err != nil {
			t.Fatal(err)
		}
		if len(h) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("background flusher never wrote the metric")
		}
		time.Sleep(50 * time.Millisecond)
	}
	before, _ := db.Run(rec.RunID())
	time.Sleep(10 * time.Millisecond)
	if err := rec.Heartbeat(); err != nil {
		t.Fatal(err)
	}
	after, _ := db.Run(rec.RunID())
	if !after.HeartbeatAt.After(before.HeartbeatAt) {
		t.Errorf("heartbeat did not advance: %v -> %v", before.HeartbeatAt, after.HeartbeatAt)
	}
}

func TestCloseFlushesPending(t *testing.T) {
	db, path := openTemp(t)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	rec.LogMetric("loss", 0, 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := db.MetricHistory(rec.RunID(), "loss")
	if err != nil || len(h) != 1 {
		t.Errorf("history after Close = %v, %v", h, err)
	}
	if run, _ := db.Run(rec.RunID()); run.Status != StatusRunning {
		t.Errorf("status = %q, want running until MarkStale", run.Status)
	}
}

func TestMarkStale(t *testing.T) {
	db, _ := openTemp(t)
	start := func() int64 {
		rec, err := db.StartRun(RunInfo{})
		if err != nil {
			t.Fatal(err)
		}
		rec.stopFlusher() // keep its heartbeat where the test puts it
		return rec.RunID()
	}
	live, silent, dead, done := start(), start(), start(), start()
	if _, err := db.sql.Exec(`UPDATE runs SET heartbeat_at = heartbeat_at - 3600 WHERE id = ?`, silent); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.sql.Exec(`UPDATE runs SET pid = ? WHERE id = ?`, cmd.Process.Pid, dead); err != nil {
		t.Fatal(err)
	}
	if err := db.SetStatus(done, StatusFinished, ""); err != nil {
		t.Fatal(err)
	}
	ids, err := db.MarkStale(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, []int64{silent, dead}) {
		t.Errorf("MarkStale = %v, want [%d %d]", ids, silent, dead)
	}
	for id, want := range map[int64]string{live: StatusRunning, silent: StatusKilled, dead: StatusKilled, done: StatusFinished} {
		run, err := db.Run(id)
		if err != nil {
			t.Fatal(err)
		}
		if run.Status != want {
			t.Errorf("run %d status %q, want %q", id, run.Status, want)
		}
		if want == StatusKilled && (run.Error == "" || run.EndedAt.IsZero()) {
			t.Errorf("killed run %d: error %q ended %v", id, run.Error, run.EndedAt)
		}
	}
	if ids, _ := db.MarkStale(time.Minute); len(ids) != 0 {
		t.Errorf("second MarkStale = %v", ids)
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.db")
	junk := bytes.Repeat([]byte("not sqlite, just bytes "), 400)
	if err := os.WriteFile(corrupt, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"parent is a file", filepath.Join(file, "x.db"), []string{"plain", "not a directory", "VAEXP_DB"}},
		{"missing parent", filepath.Join(dir, "nope", "x.db"), []string{"nope", "does not exist", "VAEXP_DB"}},
		{"path is a directory", dir, []string{dir, "is a directory"}},
		{"corrupt file", corrupt, []string{"corrupt.db", "not a database", "VAEXP_DB"}},
		// SQLite takes a file shorter than a page for an empty database:
		// Open must not write a schema over a user's one-line text file.
		{"short text file", file, []string{"plain", "not a database", "VAEXP_DB"}},
		{"empty path", "", []string{"empty", "VAEXP_DB"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(tc.path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if got, _ := os.ReadFile(corrupt); !bytes.Equal(got, junk) {
		t.Error("Open changed the corrupt file")
	}
	if got, _ := os.ReadFile(file); string(got) != "x" {
		t.Errorf("Open changed the text file to %d bytes", len(got))
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); !os.IsNotExist(err) {
		t.Error("Open created the missing parent directory")
	}

	db, _ := openTemp(t)
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish("done", nil); err == nil || !strings.Contains(err.Error(), `"done"`) || !strings.Contains(err.Error(), "finished") {
		t.Errorf("Finish(done) = %v", err)
	}
	if err := rec.Finish(StatusRunning, nil); err == nil {
		t.Error("Finish(running) accepted")
	}
	if err := db.SetStatus(rec.RunID(), "Finished", ""); err == nil {
		t.Error("SetStatus accepted a wrong-case status")
	}
	if _, err := db.sql.Exec(`UPDATE runs SET status = 'exploded'`); err == nil {
		t.Error("schema CHECK accepted an unknown status")
	}
	if err := rec.SetParam("layers", []int{1, 2}); err == nil || !strings.Contains(err.Error(), "layers") {
		t.Errorf("SetParam([]int) = %v", err)
	}
	if _, err := db.StartRun(RunInfo{Params: map[string]any{"f": func() {}}}); err == nil {
		t.Error("StartRun accepted a func param")
	}
	if err := rec.Finish(StatusKilled, nil); err != nil {
		t.Fatal(err)
	}

	const missing = 4242
	checks := map[string]error{}
	_, checks["Run"] = db.Run(missing)
	_, checks["ResumeRun"] = db.ResumeRun(missing)
	_, checks["Params"] = db.Params(missing)
	_, checks["Tags"] = db.Tags(missing)
	_, checks["LatestMetrics"] = db.LatestMetrics(missing)
	_, checks["MetricHistory"] = db.MetricHistory(missing, "loss")
	_, checks["Artifacts"] = db.Artifacts(missing)
	_, _, checks["Artifact"] = db.Artifact(missing, "x")
	checks["SetStatus"] = db.SetStatus(missing, StatusKilled, "")
	for name, err := range checks {
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "run 4242 not found") || !strings.Contains(err.Error(), "vaexp runs list") {
			t.Errorf("%s(missing) = %v", name, err)
		}
	}
	if _, _, err := db.Artifact(rec.RunID(), "samples"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"samples"`) {
		t.Errorf("missing artifact: %v", err)
	}
	// An existing run with nothing logged is not an error.
	if ps, err := db.Params(rec.RunID()); err != nil || len(ps) != 0 {
		t.Errorf("Params of bare run = %v, %v", ps, err)
	}
}

func TestForeignDatabaseRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	raw, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE notes(x)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if db, err := Open(path); err == nil {
		db.Close()
		t.Fatal("Open adopted another program's database")
	} else if !strings.Contains(err.Error(), "other.db") || !strings.Contains(err.Error(), "no vaexp schema") {
		t.Errorf("error = %v", err)
	}
}

func TestConcurrentOpenOfNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.db")
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := Open(path)
			if err == nil {
				_, err = db.StartRun(RunInfo{})
				db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestCascadeDelete(t *testing.T) {
	db, _ := openTemp(t)
	rec, err := db.StartRun(RunInfo{Params: map[string]any{"a": 1}})
	if err != nil {
		t.Fatal(err)
	}
	rec.LogMetric("x", 0, 1)
	rec.SetTag("k", "v")
	rec.LogArtifact("a", 0, "text/plain", []byte("hi"))
	rec.Finish(StatusFinished, nil)
	if _, err := db.sql.Exec(`DELETE FROM runs WHERE id = ?`, rec.RunID()); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"params", "metrics", "latest_metrics", "tags", "artifacts"} {
		if n := countRows(t, db, `SELECT count(*) FROM `+table); n != 0 {
			t.Errorf("%s has %d rows after deleting the run", table, n)
		}
	}
}

func TestDefaultPathAndVersion(t *testing.T) {
	t.Setenv(EnvDB, "")
	if got := DefaultPath(); got != "vaexp.db" {
		t.Errorf("DefaultPath() = %q without %s", got, EnvDB)
	}
	t.Setenv(EnvDB, "/data/exp.db")
	if got := DefaultPath(); got != "/data/exp.db" {
		t.Errorf("DefaultPath() = %q with %s set", got, EnvDB)
	}
	// Odd characters must reach the file system unchanged, not be read as URI syntax.
	path := filepath.Join(t.TempDir(), "a?b#c%20d.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	if v, err := db.SchemaVersion(); err != nil || v != currentVersion() {
		t.Errorf("SchemaVersion() = %d, %v", v, err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
}
