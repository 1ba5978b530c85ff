package tracker

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Run is one row of the runs table. Zero times mean "not set" (EndedAt of a
// run still running).
type Run struct {
	ID                                int64
	Experiment, Name, Family, Status  string
	StartedAt, EndedAt, HeartbeatAt   time.Time
	Seed                              int64
	Backend, Command, GitCommit, Host string
	RunDir, Error                     string
	PID                               int
	// Sweep names the sweep the run belongs to; empty for a lone run.
	Sweep string
}

// Point is one logged value of a metric. Value is NaN where NaN was logged.
type Point struct {
	Step  int64
	Value float64
	Time  time.Time
}

// LatestMetric summarizes a metric: its value at the highest step logged and
// the minimum and maximum over all steps (NaN values ignored; NaN if every
// value was NaN).
type LatestMetric struct {
	Key      string
	Step     int64
	Value    float64
	Min, Max float64
}

// ArtifactInfo describes a stored artifact without its bytes.
type ArtifactInfo struct {
	ID        int64
	Name      string
	Step      int64
	MIME      string
	Size      int
	CreatedAt time.Time
}

// runSelect are the columns scanRun reads, over runFrom.
const (
	runSelect = `r.id, e.name, r.name, r.family, r.status, r.started_at, r.ended_at, r.heartbeat_at,
	r.seed, r.backend, r.command, r.git_commit, r.host, r.run_dir, coalesce(r.error, ''), r.pid, r.sweep`
	runFrom    = ` FROM runs AS r JOIN experiments AS e ON e.id = r.experiment_id`
	runColumns = runSelect + runFrom
)

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var started, ended, beat sql.NullFloat64
	err := sc.Scan(&r.ID, &r.Experiment, &r.Name, &r.Family, &r.Status, &started, &ended, &beat,
		&r.Seed, &r.Backend, &r.Command, &r.GitCommit, &r.Host, &r.RunDir, &r.Error, &r.PID, &r.Sweep)
	r.StartedAt, r.EndedAt, r.HeartbeatAt = fromUnix(started), fromUnix(ended), fromUnix(beat)
	return r, err
}

// Run returns one run; an unknown id gives an error wrapping ErrNotFound
// that names the id and how to list runs.
func (db *DB) Run(id int64) (Run, error) {
	r, err := scanRun(db.sql.QueryRow(`SELECT `+runColumns+` WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, runNotFound(id)
	}
	if err != nil {
		return Run{}, fmt.Errorf("read run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns returns every run, newest first. It does not change statuses;
// call MarkStale first to turn dead 'running' runs into 'killed'.
func (db *DB) ListRuns() ([]Run, error) {
	rows, err := db.sql.Query(`SELECT ` + runColumns + ` ORDER BY r.started_at DESC, r.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var runs []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return runs, nil
}

// emptyOrMissing is called when a per-run query found nothing: it returns
// the not-found error if the run itself does not exist, else nil.
func (db *DB) emptyOrMissing(id int64) error {
	var one int
	err := db.sql.QueryRow(`SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return runNotFound(id)
	}
	return err
}

// query runs a per-run query, calls scan for each row, and reports a missing
// run when there were no rows.
func (db *DB) query(what string, id int64, scan func(*sql.Rows) error, q string, args ...any) error {
	rows, err := db.sql.Query(q, args...)
	if err != nil {
		return fmt.Errorf("%s of run %d: %w", what, id, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("%s of run %d: %w", what, id, err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s of run %d: %w", what, id, err)
	}
	if n == 0 {
		if err := db.emptyOrMissing(id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

// Params returns a run's parameters sorted by key.
func (db *DB) Params(id int64) ([]Param, error) {
	var ps []Param
	err := db.query("read params", id, func(rows *sql.Rows) error {
		var key, typ, text string
		var num sql.NullFloat64
		if err := rows.Scan(&key, &typ, &text, &num); err != nil {
			return err
		}
		p, err := decodeParam(key, typ, text, num)
		ps = append(ps, p)
		return err
	}, `SELECT key, type, value_text, value_num FROM params WHERE run_id = ? ORDER BY key`, id)
	return ps, err
}

// Tags returns a run's tags.
func (db *DB) Tags(id int64) (map[string]string, error) {
	tags := map[string]string{}
	err := db.query("read tags", id, func(rows *sql.Rows) error {
		var k, v string
		err := rows.Scan(&k, &v)
		tags[k] = v
		return err
	}, `SELECT key, value FROM tags WHERE run_id = ?`, id)
	return tags, err
}

// LatestMetrics returns the summary of every metric of a run, sorted by key.
func (db *DB) LatestMetrics(id int64) ([]LatestMetric, error) {
	var ms []LatestMetric
	err := db.query("read latest metrics", id, func(rows *sql.Rows) error {
		var m LatestMetric
		var v, lo, hi sql.NullFloat64
		err := rows.Scan(&m.Key, &m.Step, &v, &lo, &hi)
		m.Value, m.Min, m.Max = nanIfNull(v), nanIfNull(lo), nanIfNull(hi)
		ms = append(ms, m)
		return err
	}, `SELECT key, step, value, min_value, max_value FROM latest_metrics WHERE run_id = ? ORDER BY key`, id)
	return ms, err
}

// MetricKeys returns the names of a run's metrics, sorted.
func (db *DB) MetricKeys(id int64) ([]string, error) {
	var keys []string
	err := db.query("read metric keys", id, func(rows *sql.Rows) error {
		var k string
		err := rows.Scan(&k)
		keys = append(keys, k)
		return err
	}, `SELECT key FROM latest_metrics WHERE run_id = ? ORDER BY key`, id)
	return keys, err
}

// MetricHistory returns every logged point of one metric, by step. An
// unknown key gives an empty slice; an unknown run an error.
func (db *DB) MetricHistory(id int64, key string) ([]Point, error) {
	var ps []Point
	err := db.query(fmt.Sprintf("read metric %q", key), id, func(rows *sql.Rows) error {
		var p Point
		var v, t sql.NullFloat64
		err := rows.Scan(&p.Step, &v, &t)
		p.Value, p.Time = nanIfNull(v), fromUnix(t)
		ps = append(ps, p)
		return err
	}, `SELECT step, value, time FROM metrics WHERE run_id = ? AND key = ? ORDER BY step`, id, key)
	return ps, err
}

// Artifacts lists a run's artifacts by name, then step.
func (db *DB) Artifacts(id int64) ([]ArtifactInfo, error) {
	var as []ArtifactInfo
	err := db.query("list artifacts", id, func(rows *sql.Rows) error {
		a, err := scanArtifact(rows)
		as = append(as, a)
		return err
	}, `SELECT id, name, step, mime, length(data), created_at FROM artifacts WHERE run_id = ? ORDER BY name, step`, id)
	return as, err
}

func scanArtifact(sc interface{ Scan(...any) error }, extra ...any) (ArtifactInfo, error) {
	var a ArtifactInfo
	var created sql.NullFloat64
	err := sc.Scan(append([]any{&a.ID, &a.Name, &a.Step, &a.MIME, &a.Size, &created}, extra...)...)
	a.CreatedAt = fromUnix(created)
	return a, err
}

// Artifact returns the bytes of a run's artifact name at its highest step.
func (db *DB) Artifact(id int64, name string) ([]byte, ArtifactInfo, error) {
	return db.artifact(id, name, -1)
}

// ArtifactAt returns the bytes of a run's artifact name recorded at step
// (e.g. one epoch's sample grid; Artifacts lists the steps). A step the
// artifact was not recorded at is an error wrapping ErrNotFound that lists
// the steps it was.
func (db *DB) ArtifactAt(id int64, name string, step int64) ([]byte, ArtifactInfo, error) {
	if step < 0 {
		return nil, ArtifactInfo{}, fmt.Errorf("read artifact %q of run %d at step %d: steps are >= 0", name, id, step)
	}
	return db.artifact(id, name, step)
}

// artifact reads artifact name of run id at step, or at its highest step when step < 0.
func (db *DB) artifact(id int64, name string, step int64) ([]byte, ArtifactInfo, error) {
	var data []byte
	a, err := scanArtifact(db.sql.QueryRow(`SELECT id, name, step, mime, length(data), created_at, data
		FROM artifacts WHERE run_id = ? AND name = ? AND (? < 0 OR step = ?) ORDER BY step DESC LIMIT 1`,
		id, name, step, step), &data)
	if errors.Is(err, sql.ErrNoRows) {
		if err := db.emptyOrMissing(id); err != nil {
			return nil, ArtifactInfo{}, fmt.Errorf("read artifact %q: %w", name, err)
		}
		if steps, _ := db.artifactSteps(id, name); steps != "" {
			return nil, ArtifactInfo{}, fmt.Errorf("run %d has no artifact %q at step %d (%w; it has it at steps %s)", id, name, step, ErrNotFound, steps)
		}
		names, _ := db.artifactNames(id)
		return nil, ArtifactInfo{}, fmt.Errorf("run %d has no artifact %q (%w; it has: %s)", id, name, ErrNotFound, names)
	}
	if err != nil {
		return nil, ArtifactInfo{}, fmt.Errorf("read artifact %q of run %d: %w", name, id, err)
	}
	return data, a, nil
}

// artifactSteps lists the steps artifact name of run id was recorded at, as text.
func (db *DB) artifactSteps(id int64, name string) (string, error) {
	var steps []string
	err := db.query("list artifact steps", id, func(rows *sql.Rows) error {
		var s int64
		err := rows.Scan(&s)
		steps = append(steps, fmt.Sprint(s))
		return err
	}, `SELECT step FROM artifacts WHERE run_id = ? AND name = ? ORDER BY step`, id, name)
	return strings.Join(steps, ", "), err
}

func (db *DB) artifactNames(id int64) (string, error) {
	rows, err := db.sql.Query(`SELECT DISTINCT name FROM artifacts WHERE run_id = ? ORDER BY name`, id)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return "", err
		}
		names = append(names, fmt.Sprintf("%q", n))
	}
	if len(names) == 0 {
		return "none", rows.Err()
	}
	return strings.Join(names, ", "), rows.Err()
}

// SetStatus sets a run's status and error text from outside its Recorder
// (the CLI, a sweep pruning a trial). A final status also sets ended_at;
// "running" clears it.
func (db *DB) SetStatus(id int64, status string, errText string) error {
	if err := checkStatus(status); err != nil {
		return fmt.Errorf("set status of run %d: %w", id, err)
	}
	err := db.write(func(tx *sql.Tx) error {
		var ended any
		if status != StatusRunning {
			ended = unixNow()
		}
		res, err := tx.Exec(`UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE id = ?`, status, ended, nullIfEmpty(errText), id)
		if err != nil {
			return err
		}
		return mustAffect(res, id)
	})
	if err != nil {
		return fmt.Errorf("set status of run %d: %w", id, err)
	}
	return nil
}

// MarkStale marks as 'killed' every 'running' run whose heartbeat is older
// than maxAge (maxAge <= 0 skips this test) or whose process on this host no
// longer exists, and returns their ids. The run's ended_at becomes its last
// heartbeat. Use a maxAge several times HeartbeatInterval.
func (db *DB) MarkStale(maxAge time.Duration) ([]int64, error) {
	host, _ := os.Hostname()
	type cand struct {
		id   int64
		beat sql.NullFloat64
		why  string
	}
	var cands []cand
	rows, err := db.sql.Query(`SELECT id, heartbeat_at, host, pid FROM runs WHERE status = 'running'`)
	if err != nil {
		return nil, fmt.Errorf("find stale runs: %w", err)
	}
	for rows.Next() {
		var c cand
		var h string
		var pid int
		if err := rows.Scan(&c.id, &c.beat, &h, &pid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find stale runs: %w", err)
		}
		if c.why = abandoned(host, h, pid, c.beat, maxAge); c.why == "" {
			continue
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find stale runs: %w", err)
	}
	var ids []int64
	for _, c := range cands {
		var changed bool
		err := db.write(func(tx *sql.Tx) error {
			// Only if nothing beat or resumed the run since we looked.
			res, err := tx.Exec(`UPDATE runs SET status = 'killed', ended_at = heartbeat_at, error = ?
				WHERE id = ? AND status = 'running' AND heartbeat_at IS ?`, c.why, c.id, nullFloat(c.beat))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			changed = n > 0
			return err
		})
		if err != nil {
			return ids, fmt.Errorf("mark run %d killed: %w", c.id, err)
		}
		if changed {
			ids = append(ids, c.id)
		}
	}
	return ids, nil
}

func nullFloat(v sql.NullFloat64) any {
	if !v.Valid {
		return nil
	}
	return v.Float64
}
