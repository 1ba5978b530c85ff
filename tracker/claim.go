package tracker

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"
)

// StaleAfter is how long a 'running' run may go without a heartbeat before
// it counts as abandoned. A live Recorder beats every HeartbeatInterval even
// during a long step, so this only decides for runs on other hosts: a dead
// process on this host is recognized at once by its pid.
const StaleAfter = 12 * HeartbeatInterval

// ErrFinished is wrapped by ClaimRun's error for a run that finished: its
// results are final and resuming it would overwrite them.
var ErrFinished = errors.New("run already finished")

// HeldError is ClaimRun's error when another live process holds the run.
type HeldError struct {
	RunID int64
	// PID and Host are the holder's; Heartbeat is its last sign of life.
	PID       int
	Host      string
	Heartbeat time.Time
}

func (e *HeldError) Error() string {
	beat := "no heartbeat yet"
	if !e.Heartbeat.IsZero() {
		beat = fmt.Sprintf("last heartbeat %s ago", time.Since(e.Heartbeat).Round(time.Second))
	}
	return fmt.Sprintf("run %d is held by process %d on %s (%s): wait for it to end, or stop that process, before resuming the run",
		e.RunID, e.PID, orUnknown(e.Host), beat)
}

func orUnknown(s string) string {
	if s == "" {
		return "an unknown host"
	}
	return s
}

// ClaimRun takes run id over for this process, to resume it: in one write
// transaction it checks that no live process holds the run and sets its
// status to running under this process's pid, host and a fresh heartbeat,
// clearing its end time and error. Of several processes claiming one run at
// once, exactly one wins; the others get a *HeldError naming the winner.
//
// A 'running' run counts as abandoned, and is taken over, when its process
// on this host no longer exists or its heartbeat is older than StaleAfter. A
// finished run is refused with an error wrapping ErrFinished; an unknown id
// with one wrapping ErrNotFound.
func (db *DB) ClaimRun(id int64) (*Recorder, error) {
	host, _ := os.Hostname()
	me := os.Getpid()
	err := db.write(func(tx *sql.Tx) error {
		var status, holderHost string
		var pid int
		var beat sql.NullFloat64
		err := tx.QueryRow(`SELECT status, pid, host, heartbeat_at FROM runs WHERE id = ?`, id).Scan(&status, &pid, &holderHost, &beat)
		if errors.Is(err, sql.ErrNoRows) {
			return runNotFound(id)
		}
		if err != nil {
			return err
		}
		switch status {
		case StatusFinished:
			return fmt.Errorf("run %d: %w; start a new run instead of resuming it", id, ErrFinished)
		case StatusRunning:
			if abandoned(host, holderHost, pid, beat, StaleAfter) == "" {
				return &HeldError{RunID: id, PID: pid, Host: holderHost, Heartbeat: fromUnix(beat)}
			}
		}
		_, err = tx.Exec(`UPDATE runs SET status = 'running', ended_at = NULL, error = NULL, pid = ?, host = ?, heartbeat_at = ? WHERE id = ?`,
			me, host, unixNow(), id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim run %d: %w", id, err)
	}
	return db.newRecorder(id)
}

// abandoned says why a 'running' run counts as abandoned, or "" while its
// process may still be at work: its process on this host no longer exists,
// or (maxAge > 0) its heartbeat is older than maxAge.
func abandoned(myHost, host string, pid int, beat sql.NullFloat64, maxAge time.Duration) string {
	switch {
	case host == myHost && pid > 0 && !processAlive(pid):
		return fmt.Sprintf("process %d on %s exited without finishing the run", pid, host)
	case maxAge > 0 && (!beat.Valid || time.Since(fromUnix(beat)) > maxAge):
		return fmt.Sprintf("no heartbeat for more than %v", maxAge)
	}
	return ""
}
