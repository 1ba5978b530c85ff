package tracker

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"
)

// Sweep states. A sweep is created, running while a controller holds it,
// stopped when its controller stopped before every trial ended (Ctrl-C), and
// finished once every trial is finished, pruned or failed.
const (
	SweepCreated  = "created"
	SweepRunning  = "running"
	SweepStopped  = "stopped"
	SweepFinished = "finished"
)

// Trial states. A trial is pending until a worker claims it (running); a
// successive-halving trial that reached a rung below the top is paused until
// the controller promotes it (pending again, one rung up) or prunes it.
const (
	TrialPending  = "pending"
	TrialRunning  = "running"
	TrialPaused   = "paused"
	TrialFinished = "finished"
	TrialPruned   = "pruned"
	TrialFailed   = "failed"
)

// TrialDone reports whether a trial in this state needs no more work.
func TrialDone(state string) bool {
	return state == TrialFinished || state == TrialPruned || state == TrialFailed
}

// ErrSweepBusy is wrapped by AcquireSweep's error when another live
// controller holds the sweep.
var ErrSweepBusy = errors.New("sweep is held by another controller")

// Sweep is one row of the sweeps table plus its trial counts.
type Sweep struct {
	ID                       int64
	Name, Method, Spec       string
	Metric, Direction, State string
	CreatedAt, UpdatedAt     time.Time
	OwnerPID                 int
	OwnerHost                string
	OwnerBeat                time.Time
	// Trials is the number of trials; Counts the number in each state.
	Trials int
	Counts map[string]int
}

// NewSweep describes a sweep to create with its trials.
type NewSweep struct {
	Name, Method, Spec, Metric, Direction string
	Trials                                []NewTrial
}

// NewTrial is one trial of a new sweep: Config is a JSON object of the
// trial's parameter values; Budget the training budget of its first rung.
type NewTrial struct {
	Index  int
	Config string
	Seed   int64
	Budget int
}

// Trial is one row of sweep_trials.
type Trial struct {
	SweepID int64
	Index   int
	// Config is the JSON object of the trial's parameter values.
	Config string
	Seed   int64
	State  string
	// Rung is the successive-halving rung the trial is at (0 for other
	// methods); Budget that rung's training budget (0: the spec's own).
	Rung, Budget int
	// RunID is the trial's run, 0 until it started.
	RunID int64
	// Value is the sweep metric at the last rung the trial completed (NaN: none yet).
	Value      float64
	WorkerHost string
	WorkerPID  int
	Error      string
	UpdatedAt  time.Time
}

// Params decodes the trial's Config.
func (t Trial) Params() (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(t.Config), &m); err != nil {
		return nil, fmt.Errorf("trial %d config %q: %w", t.Index, t.Config, err)
	}
	return m, nil
}

// Rung is the sweep metric of one trial at one successive-halving rung.
type Rung struct {
	Index, Rung, Budget int
	Step                int64
	Value               float64
}

const sweepColumns = `s.id, s.name, s.method, s.spec, s.metric, s.direction, s.state, s.created_at, s.updated_at,
	s.owner_pid, s.owner_host, s.owner_beat`

func scanSweep(sc interface{ Scan(...any) error }) (Sweep, error) {
	var s Sweep
	var created, updated, beat sql.NullFloat64
	err := sc.Scan(&s.ID, &s.Name, &s.Method, &s.Spec, &s.Metric, &s.Direction, &s.State, &created, &updated,
		&s.OwnerPID, &s.OwnerHost, &beat)
	s.CreatedAt, s.UpdatedAt, s.OwnerBeat = fromUnix(created), fromUnix(updated), fromUnix(beat)
	return s, err
}

func sweepNotFound(what string) error {
	return fmt.Errorf("sweep %s %w; list sweeps with `vaexp sweep list`", what, ErrNotFound)
}

// CreateSweep returns the sweep called s.Name, creating it with its trials
// (all pending) in one transaction if there is none. An existing sweep of
// that name is returned (created false) only if its spec text is the same;
// otherwise the error says how to tell them apart.
func (db *DB) CreateSweep(s NewSweep) (sw Sweep, created bool, err error) {
	if strings.TrimSpace(s.Name) == "" {
		return Sweep{}, false, errors.New("create sweep: empty name (give the spec a name: key)")
	}
	if s.Direction == "" {
		s.Direction = "min"
	}
	var id int64
	err = db.write(func(tx *sql.Tx) error {
		created = false
		var spec string
		err := tx.QueryRow(`SELECT id, spec FROM sweeps WHERE name = ?`, s.Name).Scan(&id, &spec)
		if err == nil {
			if spec != s.Spec {
				return fmt.Errorf("a sweep named %q (id %d) already exists with another spec; change name: in the spec (or --name), or continue that one with `vaexp sweep resume %d`",
					s.Name, id, id)
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		now := unixNow()
		res, err := tx.Exec(`INSERT INTO sweeps(name, method, spec, metric, direction, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 'created', ?, ?)`, s.Name, s.Method, s.Spec, s.Metric, s.Direction, now, now)
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		stmt, err := tx.Prepare(`INSERT INTO sweep_trials(sweep_id, idx, config, seed, budget, updated_at) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, t := range s.Trials {
			if _, err := stmt.Exec(id, t.Index, t.Config, t.Seed, t.Budget, now); err != nil {
				return fmt.Errorf("trial %d: %w", t.Index, err)
			}
		}
		created = true
		return nil
	})
	if err != nil {
		return Sweep{}, false, fmt.Errorf("create sweep %q: %w", s.Name, err)
	}
	sw, err = db.Sweep(id)
	return sw, created, err
}

// Sweep returns one sweep with its trial counts.
func (db *DB) Sweep(id int64) (Sweep, error) {
	s, err := scanSweep(db.sql.QueryRow(`SELECT `+sweepColumns+` FROM sweeps AS s WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Sweep{}, sweepNotFound(fmt.Sprint(id))
	}
	if err != nil {
		return Sweep{}, fmt.Errorf("read sweep %d: %w", id, err)
	}
	return s, db.countTrials(&s)
}

// SweepByName returns the sweep called name.
func (db *DB) SweepByName(name string) (Sweep, error) {
	var id int64
	err := db.sql.QueryRow(`SELECT id FROM sweeps WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Sweep{}, sweepNotFound(fmt.Sprintf("%q", name))
	}
	if err != nil {
		return Sweep{}, fmt.Errorf("read sweep %q: %w", name, err)
	}
	return db.Sweep(id)
}

// Sweeps returns every sweep, newest first, with trial counts.
func (db *DB) Sweeps() ([]Sweep, error) {
	rows, err := db.sql.Query(`SELECT ` + sweepColumns + ` FROM sweeps AS s ORDER BY s.created_at DESC, s.id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list sweeps: %w", err)
	}
	var out []Sweep
	for rows.Next() {
		s, err := scanSweep(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list sweeps: %w", err)
		}
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sweeps: %w", err)
	}
	for i := range out {
		if err := db.countTrials(&out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (db *DB) countTrials(s *Sweep) error {
	rows, err := db.sql.Query(`SELECT state, count(*) FROM sweep_trials WHERE sweep_id = ? GROUP BY state`, s.ID)
	if err != nil {
		return fmt.Errorf("count trials of sweep %d: %w", s.ID, err)
	}
	defer rows.Close()
	s.Counts, s.Trials = map[string]int{}, 0
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return err
		}
		s.Counts[st] = n
		s.Trials += n
	}
	return rows.Err()
}

const trialColumns = `sweep_id, idx, config, seed, state, rung, budget, coalesce(run_id, 0), value,
	worker_host, worker_pid, coalesce(error, ''), updated_at`

func scanTrial(sc interface{ Scan(...any) error }) (Trial, error) {
	var t Trial
	var v, updated sql.NullFloat64
	err := sc.Scan(&t.SweepID, &t.Index, &t.Config, &t.Seed, &t.State, &t.Rung, &t.Budget, &t.RunID, &v,
		&t.WorkerHost, &t.WorkerPID, &t.Error, &updated)
	t.Value, t.UpdatedAt = nanIfNull(v), fromUnix(updated)
	return t, err
}

// Trials returns a sweep's trials by index.
func (db *DB) Trials(sweepID int64) ([]Trial, error) {
	rows, err := db.sql.Query(`SELECT `+trialColumns+` FROM sweep_trials WHERE sweep_id = ? ORDER BY idx`, sweepID)
	if err != nil {
		return nil, fmt.Errorf("read trials of sweep %d: %w", sweepID, err)
	}
	defer rows.Close()
	var out []Trial
	for rows.Next() {
		t, err := scanTrial(rows)
		if err != nil {
			return nil, fmt.Errorf("read trials of sweep %d: %w", sweepID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Trial returns one trial.
func (db *DB) Trial(sweepID int64, index int) (Trial, error) {
	t, err := scanTrial(db.sql.QueryRow(`SELECT `+trialColumns+` FROM sweep_trials WHERE sweep_id = ? AND idx = ?`, sweepID, index))
	if errors.Is(err, sql.ErrNoRows) {
		return Trial{}, fmt.Errorf("sweep %d has no trial %d (%w); see `vaexp sweep status %d`", sweepID, index, ErrNotFound, sweepID)
	}
	if err != nil {
		return Trial{}, fmt.Errorf("read trial %d of sweep %d: %w", index, sweepID, err)
	}
	return t, nil
}

// Rungs returns every recorded rung result of a sweep, by trial then rung.
func (db *DB) Rungs(sweepID int64) ([]Rung, error) {
	rows, err := db.sql.Query(`SELECT idx, rung, budget, step, value FROM sweep_rungs WHERE sweep_id = ? ORDER BY idx, rung`, sweepID)
	if err != nil {
		return nil, fmt.Errorf("read rungs of sweep %d: %w", sweepID, err)
	}
	defer rows.Close()
	var out []Rung
	for rows.Next() {
		var r Rung
		var v sql.NullFloat64
		if err := rows.Scan(&r.Index, &r.Rung, &r.Budget, &r.Step, &v); err != nil {
			return nil, err
		}
		r.Value = nanIfNull(v)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ownerBusy says why the holder (pid on host, last beat) still holds a
// sweep, or "" if it does not: a holder on this host holds it while its
// process lives; one elsewhere while it beat within staleAfter.
func ownerBusy(pid int, host string, beat sql.NullFloat64, staleAfter time.Duration) string {
	if pid == 0 {
		return ""
	}
	me, _ := os.Hostname()
	if host == me {
		if pid == os.Getpid() || !processAlive(pid) {
			return ""
		}
		return fmt.Sprintf("pid %d on %s", pid, host)
	}
	if beat.Valid && time.Since(fromUnix(beat)) < staleAfter {
		return fmt.Sprintf("pid %d on %s (last beat %s ago)", pid, host, time.Since(fromUnix(beat)).Round(time.Second))
	}
	return ""
}

// AcquireSweep makes this process the sweep's controller and sets its state
// to running, in one transaction: of several processes calling it at once,
// one wins and the others get an error wrapping ErrSweepBusy that names the
// holder. A holder counts as gone when its process on this host has exited,
// or when a holder on another host has not beaten (SweepBeat) for
// staleAfter. A finished sweep cannot be acquired.
func (db *DB) AcquireSweep(id int64, staleAfter time.Duration) error {
	host, _ := os.Hostname()
	err := db.write(func(tx *sql.Tx) error {
		var state, ohost string
		var opid int
		var beat sql.NullFloat64
		err := tx.QueryRow(`SELECT state, owner_pid, owner_host, owner_beat FROM sweeps WHERE id = ?`, id).Scan(&state, &opid, &ohost, &beat)
		if errors.Is(err, sql.ErrNoRows) {
			return sweepNotFound(fmt.Sprint(id))
		}
		if err != nil {
			return err
		}
		if state == SweepFinished {
			return fmt.Errorf("sweep %d is finished: every trial ended (see `vaexp sweep status %d`)", id, id)
		}
		if who := ownerBusy(opid, ohost, beat, staleAfter); who != "" {
			return fmt.Errorf("%w: sweep %d is being run by %s; wait for it, or stop it (Ctrl-C, or kill -INT %d) and resume then", ErrSweepBusy, id, who, opid)
		}
		now := unixNow()
		_, err = tx.Exec(`UPDATE sweeps SET state = 'running', owner_pid = ?, owner_host = ?, owner_beat = ?, updated_at = ? WHERE id = ?`,
			os.Getpid(), host, now, now, id)
		return err
	})
	if err != nil && !errors.Is(err, ErrSweepBusy) && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("acquire sweep %d: %w", id, err)
	}
	return err
}

// SweepBeat refreshes the controller's heartbeat.
func (db *DB) SweepBeat(id int64) error {
	err := db.write(func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE sweeps SET owner_beat = ? WHERE id = ? AND owner_pid = ?`, unixNow(), id, os.Getpid())
		return err
	})
	if err != nil {
		return fmt.Errorf("sweep %d heartbeat: %w", id, err)
	}
	return nil
}

// ReleaseSweep gives up this process's hold on the sweep and sets its state
// (stopped or finished).
func (db *DB) ReleaseSweep(id int64, state string) error {
	if state != SweepStopped && state != SweepFinished {
		return fmt.Errorf("release sweep %d: state %q (use %s or %s)", id, state, SweepStopped, SweepFinished)
	}
	err := db.write(func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE sweeps SET state = ?, owner_pid = 0, owner_host = '', updated_at = ? WHERE id = ? AND owner_pid IN (0, ?)`,
			state, unixNow(), id, os.Getpid())
		return err
	})
	if err != nil {
		return fmt.Errorf("release sweep %d: %w", id, err)
	}
	return nil
}

// SetSweepState sets a sweep's state without taking it (a lone `sweep
// trial` on a cluster node marks its database's copy finished).
func (db *DB) SetSweepState(id int64, state string) error {
	err := db.write(func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE sweeps SET state = ?, updated_at = ? WHERE id = ?`, state, unixNow(), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set state of sweep %d: %w", id, err)
	}
	return nil
}

// ClaimTrial hands one pending trial of a running sweep to this process
// (host and pid recorded), in one transaction, so that no two workers ever
// get the same trial. Promoted trials (higher rungs) go first, then the
// lowest index. index >= 0 claims exactly that trial, whatever the sweep's
// state: it must be pending, or running under a process on this host that
// has exited. ok is false when there is nothing to claim.
func (db *DB) ClaimTrial(sweepID int64, index int) (t Trial, ok bool, err error) {
	host, _ := os.Hostname()
	pid := os.Getpid()
	err = db.write(func(tx *sql.Tx) error {
		ok = false
		var q *sql.Row
		if index < 0 {
			q = tx.QueryRow(`SELECT t.idx FROM sweep_trials AS t JOIN sweeps AS s ON s.id = t.sweep_id
				WHERE t.sweep_id = ? AND t.state = 'pending' AND s.state = 'running'
				ORDER BY t.rung DESC, t.idx LIMIT 1`, sweepID)
		} else {
			q = tx.QueryRow(`SELECT idx FROM sweep_trials WHERE sweep_id = ? AND idx = ? AND state = 'pending'`, sweepID, index)
		}
		var idx int
		err := q.Scan(&idx)
		if errors.Is(err, sql.ErrNoRows) && index >= 0 {
			cur, err := scanTrial(tx.QueryRow(`SELECT `+trialColumns+` FROM sweep_trials WHERE sweep_id = ? AND idx = ?`, sweepID, index))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sweep %d has no trial %d (%w)", sweepID, index, ErrNotFound)
			}
			if err != nil {
				return err
			}
			if cur.State != TrialRunning || cur.WorkerHost != host || processAlive(cur.WorkerPID) {
				t = cur // not claimable: the caller reports its state
				return nil
			}
			idx = index // its worker on this host died: take it over
		} else if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE sweep_trials SET state = 'running', worker_host = ?, worker_pid = ?, error = NULL, updated_at = ?
			WHERE sweep_id = ? AND idx = ?`, host, pid, unixNow(), sweepID, idx); err != nil {
			return err
		}
		if t, err = scanTrial(tx.QueryRow(`SELECT `+trialColumns+` FROM sweep_trials WHERE sweep_id = ? AND idx = ?`, sweepID, idx)); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return Trial{}, false, fmt.Errorf("claim a trial of sweep %d: %w", sweepID, err)
	}
	return t, ok, nil
}

// LinkTrialRun records the run that carries out a trial.
func (db *DB) LinkTrialRun(sweepID int64, index int, runID int64) error {
	err := db.write(func(tx *sql.Tx) error {
		_, err := tx.Exec(`UPDATE sweep_trials SET run_id = ?, updated_at = ? WHERE sweep_id = ? AND idx = ?`, runID, unixNow(), sweepID, index)
		return err
	})
	if err != nil {
		return fmt.Errorf("link trial %d of sweep %d to run %d: %w", index, sweepID, runID, err)
	}
	return nil
}

// TrialResult is how a worker's attempt at a trial ended.
type TrialResult struct {
	// State is finished, paused (a rung below the top reached), failed, or
	// pending (interrupted: another worker continues from the checkpoint).
	State string
	// Value is the sweep metric (NaN if the run did not record it); Step the
	// run's global step. Both are recorded as the trial's rung result unless
	// the trial is pending again.
	Value float64
	Step  int64
	Error string
}

// EndTrial records a worker's result for a trial it holds (and its rung
// result), in one transaction. Only the holder's own claim is ended: a
// trial taken over meanwhile is left alone.
func (db *DB) EndTrial(sweepID int64, index int, r TrialResult) error {
	switch r.State {
	case TrialFinished, TrialPaused, TrialFailed, TrialPending:
	default:
		return fmt.Errorf("end trial %d of sweep %d: state %q (use finished, paused, failed or pending)", index, sweepID, r.State)
	}
	host, _ := os.Hostname()
	err := db.write(func(tx *sql.Tx) error {
		var rung, budget int
		err := tx.QueryRow(`SELECT rung, budget FROM sweep_trials WHERE sweep_id = ? AND idx = ? AND state = 'running'
			AND worker_host = ? AND worker_pid = ?`, sweepID, index, host, os.Getpid()).Scan(&rung, &budget)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		now := unixNow()
		if r.State == TrialPending {
			_, err = tx.Exec(`UPDATE sweep_trials SET state = 'pending', worker_host = '', worker_pid = 0, error = ?, updated_at = ?
				WHERE sweep_id = ? AND idx = ?`, nullIfEmpty(r.Error), now, sweepID, index)
			return err
		}
		if r.State != TrialFailed {
			if _, err := tx.Exec(`INSERT OR REPLACE INTO sweep_rungs(sweep_id, idx, rung, budget, step, value) VALUES (?, ?, ?, ?, ?, ?)`,
				sweepID, index, rung, budget, r.Step, nullIfNaN(r.Value)); err != nil {
				return err
			}
		}
		_, err = tx.Exec(`UPDATE sweep_trials SET state = ?, value = coalesce(?, value), worker_host = '', worker_pid = 0, error = ?, updated_at = ?
			WHERE sweep_id = ? AND idx = ?`, r.State, nullIfNaN(r.Value), nullIfEmpty(r.Error), now, sweepID, index)
		return err
	})
	if err != nil {
		return fmt.Errorf("end trial %d of sweep %d: %w", index, sweepID, err)
	}
	return nil
}

// PromoteTrial moves a trial paused at rung fromRung up one rung with the
// given budget, pending for a worker; PruneTrial ends it as pruned. Both
// change the trial only if it is still paused at fromRung, and report
// whether they did.
func (db *DB) PromoteTrial(sweepID int64, index, fromRung, budget int) (bool, error) {
	return db.decideTrial(sweepID, index, fromRung, `UPDATE sweep_trials SET state = 'pending', rung = rung + 1, budget = ?, updated_at = ?
		WHERE sweep_id = ? AND idx = ? AND state = 'paused' AND rung = ?`, budget)
}

// PruneTrial: see PromoteTrial.
func (db *DB) PruneTrial(sweepID int64, index, fromRung int) (bool, error) {
	return db.decideTrial(sweepID, index, fromRung, `UPDATE sweep_trials SET state = 'pruned', updated_at = ?
		WHERE sweep_id = ? AND idx = ? AND state = 'paused' AND rung = ?`)
}

func (db *DB) decideTrial(sweepID int64, index, fromRung int, stmt string, args ...any) (bool, error) {
	n, err := db.changeRows(stmt, append(args, unixNow(), sweepID, index, fromRung)...)
	if err != nil {
		return false, fmt.Errorf("decide trial %d of sweep %d: %w", index, sweepID, err)
	}
	return n > 0, nil
}

// changeRows runs one statement in a write transaction and returns how
// many rows it changed.
func (db *DB) changeRows(stmt string, args ...any) (int64, error) {
	var n int64
	err := db.write(func(tx *sql.Tx) error {
		res, err := tx.Exec(stmt, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// ReleaseDeadClaims makes pending again every running trial of the sweep
// whose worker process on this host has exited (killed outright), and
// returns their indexes. Their runs, if any, continue from their last
// checkpoint when claimed again. With all set, every running trial is
// released whatever its worker (for a controller that knows its workers
// are gone).
func (db *DB) ReleaseDeadClaims(sweepID int64, all bool) ([]int, error) {
	host, _ := os.Hostname()
	var released []int
	err := db.write(func(tx *sql.Tx) error {
		released = released[:0]
		rows, err := tx.Query(`SELECT idx, worker_host, worker_pid FROM sweep_trials WHERE sweep_id = ? AND state = 'running'`, sweepID)
		if err != nil {
			return err
		}
		var dead []int
		for rows.Next() {
			var idx, pid int
			var h string
			if err := rows.Scan(&idx, &h, &pid); err != nil {
				rows.Close()
				return err
			}
			if all || (h == host && (pid == 0 || !processAlive(pid))) {
				dead = append(dead, idx)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, idx := range dead {
			if _, err := tx.Exec(`UPDATE sweep_trials SET state = 'pending', worker_host = '', worker_pid = 0, updated_at = ?
				WHERE sweep_id = ? AND idx = ?`, unixNow(), sweepID, idx); err != nil {
				return err
			}
		}
		released = dead
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("release dead claims of sweep %d: %w", sweepID, err)
	}
	return released, nil
}

// RetryFailedTrials makes every failed trial of the sweep pending again
// (its run continues from its last checkpoint) and returns how many.
func (db *DB) RetryFailedTrials(sweepID int64) (int, error) {
	n, err := db.changeRows(`UPDATE sweep_trials SET state = 'pending', error = NULL, updated_at = ? WHERE sweep_id = ? AND state = 'failed'`,
		unixNow(), sweepID)
	if err != nil {
		return 0, fmt.Errorf("retry failed trials of sweep %d: %w", sweepID, err)
	}
	return int(n), nil
}

// MetricValue returns a run's latest value of one metric key, NaN when the
// run has not recorded it.
func (db *DB) MetricValue(runID int64, key string) (float64, int64, error) {
	var v sql.NullFloat64
	var step int64
	err := db.sql.QueryRow(`SELECT value, step FROM latest_metrics WHERE run_id = ? AND key = ?`, runID, key).Scan(&v, &step)
	if errors.Is(err, sql.ErrNoRows) {
		return math.NaN(), 0, nil
	}
	if err != nil {
		return math.NaN(), 0, fmt.Errorf("read metric %q of run %d: %w", key, runID, err)
	}
	return nanIfNull(v), step, nil
}
