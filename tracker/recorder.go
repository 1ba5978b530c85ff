package tracker

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Flush policy of the background flusher: every flushInterval, or sooner
// once flushRows metric rows are pending.
const (
	flushInterval = time.Second
	flushRows     = 2048
)

// RunInfo describes a run being started. Empty Experiment means "default";
// empty Name becomes "run-<id>"; empty Host becomes os.Hostname().
type RunInfo struct {
	Experiment, Name, Family, Backend, Command, GitCommit, Host, RunDir string
	Seed                                                                int64
	// Sweep names the sweep this run is a trial of ("" for a lone run);
	// filters select it with `sweep = 'name'`.
	Sweep string
	// Params are stored typed; see Recorder.SetParam for the accepted types.
	Params map[string]any
}

// Recorder writes one run's data. Metric logging only appends to an
// in-memory buffer; a background goroutine writes the buffer in one
// transaction about once a second and refreshes the run's heartbeat. Other
// writes are synchronous. A Recorder is safe for concurrent use.
//
// The buffer is unbounded: if the disk cannot keep up (roughly 300k rows/s
// on the 2-core dev VM), memory grows rather than the training loop waiting
// or data being dropped.
type Recorder struct {
	db *DB
	id int64

	mu      sync.Mutex // guards buf and stopped
	buf     []metricRow
	stopped bool

	flushMu  sync.Mutex // serializes flushes so rows reach disk in log order
	spare    []metricRow
	lastBeat time.Time

	kick     chan struct{}
	stop     chan struct{}
	exited   chan struct{}
	stopOnce sync.Once

	errMu sync.Mutex
	err   error

	finishMu  sync.Mutex
	finished  bool
	finishErr error
}

type metricRow struct {
	key   string
	step  int64
	value float64
	time  float64
}

// StartRun inserts a new run with status running, a fresh heartbeat, this
// process's pid and the given params in one transaction, and returns a
// Recorder for it.
func (db *DB) StartRun(info RunInfo) (*Recorder, error) {
	if info.Experiment == "" {
		info.Experiment = "default"
	}
	if info.Host == "" {
		info.Host, _ = os.Hostname()
	}
	keys := make([]string, 0, len(info.Params))
	for k, v := range info.Params {
		if _, err := encodeParam(k, v); err != nil {
			return nil, fmt.Errorf("start run: %w", err)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var id int64
	err := db.write(func(tx *sql.Tx) error {
		now := unixNow()
		if _, err := tx.Exec(`INSERT INTO experiments(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING`, info.Experiment, now); err != nil {
			return err
		}
		var expID int64
		if err := tx.QueryRow(`SELECT id FROM experiments WHERE name = ?`, info.Experiment).Scan(&expID); err != nil {
			return err
		}
		res, err := tx.Exec(`INSERT INTO runs(experiment_id, name, family, status, started_at, heartbeat_at,
				seed, backend, command, git_commit, host, pid, run_dir, sweep)
			VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			expID, info.Name, info.Family, now, now, info.Seed, info.Backend, info.Command, info.GitCommit, info.Host, os.Getpid(), info.RunDir, info.Sweep)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if info.Name == "" {
			if _, err := tx.Exec(`UPDATE runs SET name = ? WHERE id = ?`, fmt.Sprintf("run-%d", id), id); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if err := upsertParam(tx, id, k, info.Params[k]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("start run in experiment %q: %w", info.Experiment, err)
	}
	return db.newRecorder(id)
}

// ResumeRun reopens an existing run for writing: status goes back to
// running, ended_at and error are cleared, and pid, host and heartbeat are
// refreshed. Call DeleteMetricsAfter with the checkpoint's step before
// logging again. It takes the run over unconditionally: where another
// process may hold or resume the run too, use ClaimRun.
func (db *DB) ResumeRun(id int64) (*Recorder, error) {
	host, _ := os.Hostname()
	err := db.write(func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE runs SET status = 'running', ended_at = NULL, error = NULL, pid = ?, host = ?, heartbeat_at = ? WHERE id = ?`,
			os.Getpid(), host, unixNow(), id)
		if err != nil {
			return err
		}
		return mustAffect(res, id)
	})
	if err != nil {
		return nil, fmt.Errorf("resume run %d: %w", id, err)
	}
	return db.newRecorder(id)
}

func (db *DB) newRecorder(id int64) (*Recorder, error) {
	r := &Recorder{
		db:       db,
		id:       id,
		lastBeat: time.Now(),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		exited:   make(chan struct{}),
	}
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil, fmt.Errorf("run %d: tracker %q is closed", id, db.path)
	}
	db.recorders[r] = struct{}{}
	db.mu.Unlock()
	go r.loop()
	return r, nil
}

// mustAffect turns "no row changed" into the run-not-found error.
func mustAffect(res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return runNotFound(id)
	}
	return nil
}

// RunID returns the id of the run being recorded.
func (r *Recorder) RunID() int64 { return r.id }

// LogMetric records value for key at step. It only appends to a buffer and
// never waits for the disk; write errors surface through Err, Flush and
// Finish. Logging the same (key, step) again replaces the earlier value.
// NaN is stored as NULL and read back as NaN; ±Inf is stored as is.
// Calls after Finish are ignored.
func (r *Recorder) LogMetric(key string, step int64, value float64) {
	t := unixNow()
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.buf = append(r.buf, metricRow{key, step, value, t})
	full := len(r.buf) >= flushRows
	r.mu.Unlock()
	if full {
		r.nudge()
	}
}

// LogMetrics records several metrics at the same step; see LogMetric.
func (r *Recorder) LogMetrics(step int64, values map[string]float64) {
	t := unixNow()
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	for k, v := range values {
		r.buf = append(r.buf, metricRow{k, step, v, t})
	}
	full := len(r.buf) >= flushRows
	r.mu.Unlock()
	if full {
		r.nudge()
	}
}

func (r *Recorder) nudge() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Recorder) loop() {
	defer close(r.exited)
	t := time.NewTicker(flushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-r.kick:
		case <-t.C:
		}
		if err := r.flush(false); err != nil {
			r.setErr(err)
		}
	}
}

// stopFlusher ends the background goroutine and waits for it; the final
// flush is the caller's job.
func (r *Recorder) stopFlusher() {
	r.stopOnce.Do(func() {
		close(r.stop)
		<-r.exited
	})
}

// shutdown stops the flusher, makes later LogMetric calls no-ops and writes
// what is pending.
func (r *Recorder) shutdown() error {
	r.stopFlusher()
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
	return r.Flush()
}

func (r *Recorder) setErr(err error) {
	r.errMu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.errMu.Unlock()
}

// Err returns the first error the background flusher hit, or nil. Rows from
// a failed flush are kept and retried on the next one.
func (r *Recorder) Err() error {
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.err
}

// Flush writes all pending metrics now, in one transaction, and returns when
// they are on disk.
func (r *Recorder) Flush() error { return r.flush(false) }

// flush writes pending rows and, when due or forced, the heartbeat.
func (r *Recorder) flush(forceBeat bool) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	rows := r.buf
	r.buf = r.spare[:0]
	r.mu.Unlock()
	now := time.Now()
	beat := forceBeat || now.Sub(r.lastBeat) >= HeartbeatInterval
	if len(rows) == 0 && !beat {
		r.spare = rows
		return nil
	}
	err := r.db.write(func(tx *sql.Tx) error {
		if err := writeMetrics(tx, r.id, rows); err != nil {
			return err
		}
		if beat {
			res, err := tx.Exec(`UPDATE runs SET heartbeat_at = ? WHERE id = ?`, toUnix(now), r.id)
			if err != nil {
				return err
			}
			return mustAffect(res, r.id)
		}
		return nil
	})
	if err != nil {
		// Keep the rows, ahead of anything logged meanwhile, for the next try.
		r.mu.Lock()
		r.buf = append(rows, r.buf...)
		r.mu.Unlock()
		r.spare = nil
		return fmt.Errorf("flush %d metric rows of run %d: %w", len(rows), r.id, err)
	}
	if beat {
		r.lastBeat = now
	}
	r.spare = rows[:0]
	return nil
}

// latestAgg is one key's contribution of a batch to latest_metrics.
type latestAgg struct {
	step        int64
	value       float64
	min, max    float64 // NaN when the batch had no non-NaN value
	lastInBatch int64
	dirty       bool // some row may replace a stored or batched one: recompute from metrics
}

// insertChunks are the rows-per-statement sizes writeMetrics uses: powers of
// two, so every statement text repeats and stays in the driver's cache.
var insertChunks = []int{128, 32, 8, 2, 1}

// insertSQL[n] inserts n metric rows; placeholders only, never values.
var insertSQL = func() map[int]string {
	m := map[int]string{}
	for _, n := range insertChunks {
		m[n] = "INSERT OR REPLACE INTO metrics(run_id, key, step, value, time) VALUES " +
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", ")
	}
	return m
}()

// writeMetrics inserts rows (later rows replace earlier ones at the same key
// and step) and keeps latest_metrics in step. A key whose rows only extend
// its history past the stored latest step is updated incrementally; a key
// where some row may replace an existing value (its old value may have been
// the min or max) is recomputed from its history instead.
func writeMetrics(tx *sql.Tx, runID int64, rows []metricRow) error {
	if len(rows) == 0 {
		return nil
	}
	stored := map[string]int64{}
	q, err := tx.Query(`SELECT key, step FROM latest_metrics WHERE run_id = ?`, runID)
	if err != nil {
		return err
	}
	for q.Next() {
		var k string
		var st int64
		if err := q.Scan(&k, &st); err != nil {
			q.Close()
			return err
		}
		stored[k] = st
	}
	q.Close()
	if err := q.Err(); err != nil {
		return err
	}

	aggs := map[string]*latestAgg{}
	for _, m := range rows {
		a := aggs[m.key]
		if a == nil {
			a = &latestAgg{step: m.step, value: m.value, min: math.NaN(), max: math.NaN()}
			if st, ok := stored[m.key]; ok && m.step <= st {
				a.dirty = true
			}
			aggs[m.key] = a
		} else if m.step <= a.lastInBatch {
			a.dirty = true
		} else if st, ok := stored[m.key]; ok && m.step <= st {
			a.dirty = true
		}
		a.lastInBatch = m.step
		if m.step >= a.step {
			a.step, a.value = m.step, m.value
		}
		if !math.IsNaN(m.value) {
			if math.IsNaN(a.min) || m.value < a.min {
				a.min = m.value
			}
			if math.IsNaN(a.max) || m.value > a.max {
				a.max = m.value
			}
		}
	}

	args := make([]any, 0, 5*insertChunks[0])
	for i, ci := 0, 0; i < len(rows); {
		n := insertChunks[ci]
		if len(rows)-i < n {
			ci++
			continue
		}
		args = args[:0]
		for _, m := range rows[i : i+n] {
			args = append(args, runID, m.key, m.step, nullIfNaN(m.value), m.time)
		}
		if _, err := tx.Exec(insertSQL[n], args...); err != nil {
			return fmt.Errorf("insert metrics (keys %q.., steps %d..): %w", rows[i].key, rows[i].step, err)
		}
		i += n
	}

	for key, a := range aggs {
		if a.dirty {
			if err := recomputeLatest(tx, runID, key); err != nil {
				return err
			}
			continue
		}
		_, err := tx.Exec(`INSERT INTO latest_metrics(run_id, key, step, value, min_value, max_value) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(run_id, key) DO UPDATE SET
				value     = CASE WHEN excluded.step >= latest_metrics.step THEN excluded.value ELSE latest_metrics.value END,
				step      = max(excluded.step, latest_metrics.step),
				min_value = coalesce(min(latest_metrics.min_value, excluded.min_value), latest_metrics.min_value, excluded.min_value),
				max_value = coalesce(max(latest_metrics.max_value, excluded.max_value), latest_metrics.max_value, excluded.max_value)`,
			runID, key, a.step, nullIfNaN(a.value), nullIfNaN(a.min), nullIfNaN(a.max))
		if err != nil {
			return fmt.Errorf("latest metric %q: %w", key, err)
		}
	}
	return nil
}

// recomputeLatest rebuilds latest_metrics for one key of a run from its
// metric history.
func recomputeLatest(tx *sql.Tx, runID int64, key string) error {
	if _, err := tx.Exec(`DELETE FROM latest_metrics WHERE run_id = ? AND key = ?`, runID, key); err != nil {
		return err
	}
	_, err := tx.Exec(`INSERT INTO latest_metrics(run_id, key, step, value, min_value, max_value)
		SELECT run_id, key, step, value,
			(SELECT min(value) FROM metrics WHERE run_id = ?1 AND key = ?2),
			(SELECT max(value) FROM metrics WHERE run_id = ?1 AND key = ?2)
		FROM metrics WHERE run_id = ?1 AND key = ?2 ORDER BY step DESC LIMIT 1`, runID, key)
	if err != nil {
		return fmt.Errorf("recompute latest metric %q: %w", key, err)
	}
	return nil
}

// recomputeAllLatest rebuilds latest_metrics for every key of a run.
func recomputeAllLatest(tx *sql.Tx, runID int64) error {
	if _, err := tx.Exec(`DELETE FROM latest_metrics WHERE run_id = ?`, runID); err != nil {
		return err
	}
	_, err := tx.Exec(`INSERT INTO latest_metrics(run_id, key, step, value, min_value, max_value)
		SELECT m.run_id, m.key, m.step, m.value, a.lo, a.hi
		FROM (SELECT key, max(step) AS last, min(value) AS lo, max(value) AS hi
		      FROM metrics WHERE run_id = ?1 GROUP BY key) AS a
		JOIN metrics AS m ON m.run_id = ?1 AND m.key = a.key AND m.step = a.last`, runID)
	if err != nil {
		return fmt.Errorf("recompute latest metrics: %w", err)
	}
	return nil
}

// DeleteMetricsAfter deletes every metric row of the run with a step greater
// than step, pending ones included, and rebuilds latest_metrics. A resumed
// run calls it with its checkpoint's step so the steps it replays are
// written fresh.
func (r *Recorder) DeleteMetricsAfter(step int64) error {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	kept := r.buf[:0]
	for _, m := range r.buf {
		if m.step <= step {
			kept = append(kept, m)
		}
	}
	r.buf = kept
	r.mu.Unlock()
	err := r.db.write(func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM metrics WHERE run_id = ? AND step > ?`, r.id, step); err != nil {
			return err
		}
		return recomputeAllLatest(tx, r.id)
	})
	if err != nil {
		return fmt.Errorf("delete metrics of run %d after step %d: %w", r.id, step, err)
	}
	return nil
}

// SetParam sets (or replaces) one parameter, synchronously. value may be any
// Go integer, float, string or bool type (named types included); a
// fmt.Stringer is stored as its string.
func (r *Recorder) SetParam(key string, value any) error {
	if _, err := encodeParam(key, value); err != nil {
		return fmt.Errorf("run %d: %w", r.id, err)
	}
	return r.db.write(func(tx *sql.Tx) error { return upsertParam(tx, r.id, key, value) })
}

// SetTag sets (or replaces) one tag, synchronously.
func (r *Recorder) SetTag(key, value string) error {
	err := r.db.write(func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value`, r.id, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("set tag %q of run %d: %w", key, r.id, err)
	}
	return nil
}

// LogArtifact stores data under (name, step), synchronously, replacing any
// artifact already there.
func (r *Recorder) LogArtifact(name string, step int64, mime string, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	err := r.db.write(func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO artifacts(run_id, name, step, mime, data, created_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT(run_id, name, step) DO UPDATE SET mime = excluded.mime, data = excluded.data, created_at = excluded.created_at`,
			r.id, name, step, mime, data, unixNow())
		return err
	})
	if err != nil {
		return fmt.Errorf("log artifact %q step %d of run %d: %w", name, step, r.id, err)
	}
	return nil
}

// SetRunDir records the directory holding the run's checkpoints and files.
func (r *Recorder) SetRunDir(dir string) error {
	err := r.db.write(func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE runs SET run_dir = ? WHERE id = ?`, dir, r.id)
		if err != nil {
			return err
		}
		return mustAffect(res, r.id)
	})
	if err != nil {
		return fmt.Errorf("set run dir of run %d: %w", r.id, err)
	}
	return nil
}

// Heartbeat marks the run alive now. The flusher does this every
// HeartbeatInterval on its own; call it only to beat on demand.
func (r *Recorder) Heartbeat() error { return r.flush(true) }

// Finish flushes pending metrics, stops the flusher and records the run's
// final status (not "running"), end time and error text (runErr may be nil).
// Calling it again returns the first call's result and changes nothing.
func (r *Recorder) Finish(status string, runErr error) error {
	if err := checkStatus(status); err != nil {
		return fmt.Errorf("finish run %d: %w", r.id, err)
	}
	if status == StatusRunning {
		return fmt.Errorf("finish run %d: status %q is not final (use one of %v)", r.id, status, statuses[1:])
	}
	r.finishMu.Lock()
	defer r.finishMu.Unlock()
	if r.finished {
		return r.finishErr
	}
	flushErr := r.shutdown()
	var errText any
	if runErr != nil {
		errText = runErr.Error()
	}
	err := r.db.write(func(tx *sql.Tx) error {
		now := unixNow()
		res, err := tx.Exec(`UPDATE runs SET status = ?, ended_at = ?, heartbeat_at = ?, error = ? WHERE id = ?`,
			status, now, now, errText, r.id)
		if err != nil {
			return err
		}
		return mustAffect(res, r.id)
	})
	if err != nil {
		err = fmt.Errorf("finish run %d as %s: %w", r.id, status, err)
	}
	r.db.mu.Lock()
	delete(r.db.recorders, r)
	r.db.mu.Unlock()
	r.finished = true
	r.finishErr = errors.Join(flushErr, err)
	return r.finishErr
}
