package tracker

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
)

// MergeReport counts what Merge did.
type MergeReport struct {
	// Sources is the number of distinct files merged.
	Sources int
	// RunsAdded are runs new to the target; RunsUpdated runs it had in an
	// older state (still running, or an earlier heartbeat), replaced with
	// everything they own; RunsSkipped runs it already had as they are.
	RunsAdded, RunsUpdated, RunsSkipped int
	// SweepsAdded are sweeps new to the target; TrialsUpdated trials whose
	// state the sources advanced (e.g. pending → finished).
	SweepsAdded, TrialsUpdated int
}

// Merge copies every run (with its params, metrics, tags and artifacts) and
// every sweep (with its trials and rung results) of the tracker files at
// sources into db, in one transaction: all of it or, on any error or a
// killed process, nothing.
//
// Identity and ids: a run is recognized across files by its uid (schema
// v4), so merging the same file again adds nothing (idempotent) and a run
// merged while still running is replaced by its later state. Runs new to
// db get db's next ids, in the order of their ids in the source; every
// reference to them (sweep trials) is remapped the same way. Experiments
// and sweeps are matched by name; a sweep of the same name with another
// spec is an error. Sources are opened with Open (so an older file is
// migrated first) and are otherwise only read; a source still being written
// is copied as far as it was read (merge it again later). A source that is
// db's own file is refused.
//
// progress, if not nil, gets one line per source and per 100 runs.
func (db *DB) Merge(sources []string, progress func(string)) (MergeReport, error) {
	if len(sources) == 0 {
		return MergeReport{}, errors.New("merge: no source databases given")
	}
	self, err := os.Stat(db.path)
	if err != nil {
		return MergeReport{}, fmt.Errorf("merge into %q: %w", db.path, err)
	}
	var srcs []*DB
	var seen []os.FileInfo
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	for _, p := range sources {
		fi, err := os.Stat(p)
		if err != nil {
			return MergeReport{}, fmt.Errorf("merge: source %q: %w (give existing tracker files)", p, err)
		}
		if os.SameFile(fi, self) {
			return MergeReport{}, fmt.Errorf("merge: %q is the target database %q itself; merge other files into it (--into names the target)", p, db.path)
		}
		if slices.ContainsFunc(seen, func(o os.FileInfo) bool { return os.SameFile(o, fi) }) {
			continue // the same file twice merges once
		}
		seen = append(seen, fi)
		s, err := Open(p)
		if err != nil {
			return MergeReport{}, fmt.Errorf("merge: %w", err)
		}
		srcs = append(srcs, s)
	}
	var rep MergeReport
	err = db.write(func(tx *sql.Tx) error {
		rep = MergeReport{Sources: len(srcs)}
		for _, s := range srcs {
			if progress != nil {
				progress("merging " + s.path)
			}
			if err := mergeOne(tx, s, &rep, progress); err != nil {
				return fmt.Errorf("%s: %w", s.path, err)
			}
		}
		return nil
	})
	if err != nil {
		return MergeReport{}, fmt.Errorf("merge into %q (nothing was changed): %w", db.path, err)
	}
	return rep, nil
}

// merger holds one source's state while it is merged.
type merger struct {
	tx   *sql.Tx
	src  *DB
	cols map[string][]string // table → columns both files have
	runs map[int64]int64     // source run id → target run id
}

// runChildren are the tables holding a run's data, keyed by run_id.
var runChildren = []string{"params", "metrics", "latest_metrics", "tags", "artifacts"}

func mergeOne(tx *sql.Tx, src *DB, rep *MergeReport, progress func(string)) error {
	m := &merger{tx: tx, src: src, cols: map[string][]string{}, runs: map[int64]int64{}}
	for _, t := range append([]string{"runs", "sweeps", "sweep_trials", "sweep_rungs"}, runChildren...) {
		cols, err := m.commonColumns(t)
		if err != nil {
			return err
		}
		m.cols[t] = cols
	}
	exps, err := m.experiments()
	if err != nil {
		return err
	}
	rows, err := src.sql.Query(`SELECT ` + quoteCols(m.cols["runs"]) + ` FROM runs ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read runs: %w", err)
	}
	var runRows [][]any
	for rows.Next() {
		vals, err := scanAny(rows, len(m.cols["runs"]))
		if err != nil {
			rows.Close()
			return err
		}
		runRows = append(runRows, vals)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read runs: %w", err)
	}
	for i, vals := range runRows {
		if err := m.run(vals, exps, rep); err != nil {
			return err
		}
		if progress != nil && (i+1)%100 == 0 {
			progress(fmt.Sprintf("  %d of %d runs", i+1, len(runRows)))
		}
	}
	return m.sweeps(rep)
}

// commonColumns lists the columns of table present in both files, so a
// source one schema version behind (or ahead, within what Open accepts)
// still merges what both know.
func (m *merger) commonColumns(table string) ([]string, error) {
	read := func(q interface {
		Query(string, ...any) (*sql.Rows, error)
	}) ([]string, error) {
		rows, err := q.Query(`SELECT name FROM pragma_table_info(?)`, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, rows.Err()
	}
	srcCols, err := read(m.src.sql)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	dstCols, err := read(m.tx)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	var out []string
	for _, c := range srcCols {
		if slices.Contains(dstCols, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// quoteCols joins column names (read from the schema, never user input) as
// quoted SQL identifiers.
func quoteCols(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
	}
	return strings.Join(q, ", ")
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func scanAny(rows *sql.Rows, n int) ([]any, error) {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	return vals, nil
}

// experiments maps the source's experiment ids to the target's, creating
// the experiments the target lacks (matched by name).
func (m *merger) experiments() (map[int64]int64, error) {
	rows, err := m.src.sql.Query(`SELECT id, name, created_at FROM experiments`)
	if err != nil {
		return nil, fmt.Errorf("read experiments: %w", err)
	}
	type exp struct {
		id      int64
		name    string
		created float64
	}
	var exps []exp
	for rows.Next() {
		var e exp
		if err := rows.Scan(&e.id, &e.name, &e.created); err != nil {
			rows.Close()
			return nil, err
		}
		exps = append(exps, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[int64]int64{}
	for _, e := range exps {
		if _, err := m.tx.Exec(`INSERT INTO experiments(name, created_at) VALUES (?, ?) ON CONFLICT(name) DO NOTHING`, e.name, e.created); err != nil {
			return nil, err
		}
		var id int64
		if err := m.tx.QueryRow(`SELECT id FROM experiments WHERE name = ?`, e.name).Scan(&id); err != nil {
			return nil, err
		}
		out[e.id] = id
	}
	return out, nil
}

// run merges one source run (vals in m.cols["runs"] order).
func (m *merger) run(vals []any, exps map[int64]int64, rep *MergeReport) error {
	cols := m.cols["runs"]
	get := func(name string) any {
		if i := slices.Index(cols, name); i >= 0 {
			return vals[i]
		}
		return nil
	}
	srcID, _ := get("id").(int64)
	uid, _ := get("uid").(string)
	if uid == "" {
		return fmt.Errorf("run %d has no uid (open the file with this vaexp once to upgrade it)", srcID)
	}
	expID, ok := exps[asInt(get("experiment_id"))]
	if !ok {
		return fmt.Errorf("run %d: experiment %v missing", srcID, get("experiment_id"))
	}
	// Columns written to the target: everything but the id, with the
	// experiment remapped.
	var wcols []string
	var wvals []any
	for i, c := range cols {
		switch c {
		case "id":
			continue
		case "experiment_id":
			wvals = append(wvals, expID)
		default:
			wvals = append(wvals, vals[i])
		}
		wcols = append(wcols, c)
	}
	var dstID int64
	var dstBeat sql.NullFloat64
	var dstStatus string
	err := m.tx.QueryRow(`SELECT id, heartbeat_at, status FROM runs WHERE uid = ?`, uid).Scan(&dstID, &dstBeat, &dstStatus)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := m.tx.Exec(`INSERT INTO runs(`+quoteCols(wcols)+`) VALUES (`+placeholders(len(wcols))+`)`, wvals...)
		if err != nil {
			return fmt.Errorf("copy run %d: %w", srcID, err)
		}
		if dstID, err = res.LastInsertId(); err != nil {
			return err
		}
		rep.RunsAdded++
	case err != nil:
		return err
	default:
		srcBeat, _ := get("heartbeat_at").(float64)
		srcStatus, _ := get("status").(string)
		newer := srcBeat > dstBeat.Float64 || (dstStatus == StatusRunning && srcStatus != StatusRunning)
		m.runs[srcID] = dstID
		if !newer {
			rep.RunsSkipped++
			return nil
		}
		set := make([]string, 0, len(wcols))
		for _, c := range wcols {
			set = append(set, quoteCols([]string{c})+" = ?")
		}
		if _, err := m.tx.Exec(`UPDATE runs SET `+strings.Join(set, ", ")+` WHERE id = ?`, append(wvals, dstID)...); err != nil {
			return fmt.Errorf("update run %d (source run %d): %w", dstID, srcID, err)
		}
		for _, t := range runChildren {
			if _, err := m.tx.Exec(`DELETE FROM `+t+` WHERE run_id = ?`, dstID); err != nil {
				return err
			}
		}
		rep.RunsUpdated++
	}
	m.runs[srcID] = dstID
	for _, t := range runChildren {
		if err := m.copyChildren(t, srcID, dstID); err != nil {
			return fmt.Errorf("copy %s of run %d: %w", t, srcID, err)
		}
	}
	return nil
}

// copyChunk is the rows per INSERT statement when copying a run's rows.
const copyChunk = 64

// copyChildren copies a run's rows of one table, with run_id set to the
// target's id (and artifact ids left to the target).
func (m *merger) copyChildren(table string, srcID, dstID int64) error {
	var cols []string
	for _, c := range m.cols[table] {
		if !(table == "artifacts" && c == "id") {
			cols = append(cols, c)
		}
	}
	runCol := slices.Index(cols, "run_id")
	rows, err := m.src.sql.Query(`SELECT `+quoteCols(cols)+` FROM `+table+` WHERE run_id = ?`, srcID)
	if err != nil {
		return err
	}
	defer rows.Close()
	head := `INSERT INTO ` + table + `(` + quoteCols(cols) + `) VALUES `
	one := `(` + placeholders(len(cols)) + `)`
	var batch []any
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := m.tx.Exec(head+strings.TrimSuffix(strings.Repeat(one+", ", n), ", "), batch...)
		batch, n = batch[:0], 0
		return err
	}
	for rows.Next() {
		vals, err := scanAny(rows, len(cols))
		if err != nil {
			return err
		}
		vals[runCol] = dstID
		batch = append(batch, vals...)
		if n++; n == copyChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return flush()
}

// trialRank orders how far a trial has come, to keep the most advanced copy.
var trialRank = map[string]int{TrialPending: 1, TrialRunning: 2, TrialPaused: 3, TrialFailed: 4, TrialPruned: 5, TrialFinished: 6}

// sweeps merges the source's sweeps, trials and rung results.
func (m *merger) sweeps(rep *MergeReport) error {
	srcSweeps, err := m.src.Sweeps()
	if err != nil {
		return err
	}
	for _, s := range srcSweeps {
		var dstID int64
		var spec string
		err := m.tx.QueryRow(`SELECT id, spec FROM sweeps WHERE name = ?`, s.Name).Scan(&dstID, &spec)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			res, err := m.tx.Exec(`INSERT INTO sweeps(name, method, spec, metric, direction, state, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, s.Name, s.Method, s.Spec, s.Metric, s.Direction, s.State,
				toUnix(s.CreatedAt), toUnix(s.UpdatedAt))
			if err != nil {
				return fmt.Errorf("copy sweep %q: %w", s.Name, err)
			}
			if dstID, err = res.LastInsertId(); err != nil {
				return err
			}
			rep.SweepsAdded++
		case err != nil:
			return err
		case spec != s.Spec:
			return fmt.Errorf("sweep %q exists in both files with different specs; rename one (name: in its spec) before merging", s.Name)
		}
		trials, err := m.src.Trials(s.ID)
		if err != nil {
			return err
		}
		rungs, err := m.src.Rungs(s.ID)
		if err != nil {
			return err
		}
		for _, t := range trials {
			won, err := m.trial(dstID, t)
			if err != nil {
				return err
			}
			if won {
				rep.TrialsUpdated++
			}
			verb := "INSERT OR IGNORE"
			if won {
				verb = "INSERT OR REPLACE"
			}
			for _, r := range rungs {
				if r.Index != t.Index {
					continue
				}
				if _, err := m.tx.Exec(verb+` INTO sweep_rungs(sweep_id, idx, rung, budget, step, value) VALUES (?, ?, ?, ?, ?, ?)`,
					dstID, r.Index, r.Rung, r.Budget, r.Step, nullIfNaN(r.Value)); err != nil {
					return err
				}
			}
		}
		var open int
		if err := m.tx.QueryRow(`SELECT count(*) FROM sweep_trials WHERE sweep_id = ? AND state NOT IN ('finished', 'pruned', 'failed')`,
			dstID).Scan(&open); err != nil {
			return err
		}
		if open == 0 {
			if _, err := m.tx.Exec(`UPDATE sweeps SET state = 'finished' WHERE id = ?`, dstID); err != nil {
				return err
			}
		}
	}
	return nil
}

// trial merges one source trial into the target sweep dstSweep and
// reports whether the source's copy won (inserted or replaced the target's).
func (m *merger) trial(dstSweep int64, t Trial) (bool, error) {
	var runID any
	if t.RunID != 0 {
		id, ok := m.runs[t.RunID]
		if !ok {
			// The run started after this merge read the source's runs (the
			// file is still being written): the trial waits for the next merge.
			return false, nil
		}
		runID = id
	}
	cur, err := scanTrial(m.tx.QueryRow(`SELECT `+trialColumns+` FROM sweep_trials WHERE sweep_id = ? AND idx = ?`, dstSweep, t.Index))
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if exists {
		a, b := trialRank[t.State], trialRank[cur.State]
		better := a > b || (a == b && (t.Rung > cur.Rung || (t.Rung == cur.Rung && t.UpdatedAt.After(cur.UpdatedAt))))
		if !better {
			return false, nil
		}
	}
	// An upsert, not INSERT OR REPLACE: replacing would delete the row and
	// cascade to its rung results.
	_, err = m.tx.Exec(`INSERT INTO sweep_trials(sweep_id, idx, config, seed, state, rung, budget, run_id, value,
			worker_host, worker_pid, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(sweep_id, idx) DO UPDATE SET config = excluded.config, seed = excluded.seed, state = excluded.state,
			rung = excluded.rung, budget = excluded.budget, run_id = excluded.run_id, value = excluded.value,
			worker_host = excluded.worker_host, worker_pid = excluded.worker_pid, error = excluded.error,
			updated_at = excluded.updated_at`,
		dstSweep, t.Index, t.Config, t.Seed, t.State, t.Rung, t.Budget, runID, nullIfNaN(t.Value),
		t.WorkerHost, t.WorkerPID, nullIfEmpty(t.Error), toUnix(t.UpdatedAt))
	if err != nil {
		return false, fmt.Errorf("copy trial %d: %w", t.Index, err)
	}
	return true, nil
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}
