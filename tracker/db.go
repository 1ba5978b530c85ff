// Package tracker records experiments, runs, parameters, metrics, tags and
// artifacts in a single SQLite file. It is the only package in vaexp that
// speaks SQL: callers get plain Go values back and a Recorder that batches
// metric writes off the training hot path.
//
// Runs are queried with a small filter language compiled to parameterized
// SQL (ParseFilter; SCHEMA.md has the reference):
//
//	rows, err := db.Runs().Where("params.beta >= 4 AND metrics.test/nelbo < 90").
//		OrderBy("metrics.test/nelbo asc").Limit(10).All()
//
// and summarized with Compare, Group and Export.
//
// The file is an ordinary SQLite database in WAL mode; SCHEMA.md documents
// the tables and shows queries for the sqlite3 CLI and Python. Times are
// stored as REAL unix seconds (UTC); a NaN metric value is stored as NULL
// and read back as NaN.
package tracker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// EnvDB is the environment variable that overrides DefaultPath.
const EnvDB = "VAEXP_DB"

// HeartbeatInterval is how often a live Recorder refreshes its run's
// heartbeat_at. MarkStale's maxAge should be several times longer.
const HeartbeatInterval = 5 * time.Second

// busyTimeout is how long SQLite itself waits for a lock before returning
// SQLITE_BUSY; withRetry adds a few backed-off attempts on top.
const busyTimeout = 10 * time.Second

// ErrNotFound is wrapped by every error about a run or artifact that does not
// exist, so callers can test for it with errors.Is.
var ErrNotFound = errors.New("not found")

// DB is an open tracker database. It is safe for concurrent use.
type DB struct {
	path string
	sql  *sql.DB

	// wmu serializes this process's write transactions so they queue in Go
	// instead of spinning in SQLite's busy handler.
	wmu sync.Mutex

	mu        sync.Mutex
	recorders map[*Recorder]struct{}
	closed    bool

	// readOnly: opened read-only because the disk could not be written.
	readOnly bool
}

// DefaultPath returns $VAEXP_DB if set, else "vaexp.db" in the working
// directory.
func DefaultPath() string {
	if p := os.Getenv(EnvDB); p != "" {
		return p
	}
	return "vaexp.db"
}

// Open opens the tracker database at path, creating the file (but not its
// directory) if needed, switching it to WAL mode and migrating its schema to
// the version this build knows.
//
// Several processes may open a new file at once (a sweep starting its
// workers): the schema is checked and created inside write transactions the
// others wait for, so each opener sees either no schema or a complete,
// versioned one. Open never deletes a file, even one it created: another
// process may have opened it meanwhile.
func Open(path string) (*DB, error) {
	return openWith(path, busyTimeout, openCreate)
}

// OpenExisting opens a tracker database that must exist already and hold a
// vaexp schema, for reading and editing recorded runs: it never creates the
// file, and never writes a schema into a file that has none (an empty file,
// another program's database). A schema of an older vaexp is migrated as
// Open does. A missing file gives an error wrapping fs.ErrNotExist.
//
// Reading never depends on writing: on a full (or read-only) disk, where
// SQLite cannot even create its shared-memory index, OpenExisting falls back
// to reading the file as it is, read-only, provided no write-ahead log holds
// changes not yet in it. Writes then fail; ReadOnly reports it.
func OpenExisting(path string) (*DB, error) {
	db, err := openWith(path, busyTimeout, openExisting)
	if err != nil && cannotWrite(err) && walEmpty(path) {
		if ro, rerr := openWith(path, busyTimeout, openReadOnly); rerr == nil {
			return ro, nil
		}
	}
	return db, err
}

// openMode is how openWith opens the file.
type openMode int

const (
	openCreate   openMode = iota // create the file and its schema if needed
	openExisting                 // the file and its schema must exist
	openReadOnly                 // read the file as it is; no locks, no -shm, no writes
)

func openWith(path string, busy time.Duration, mode openMode) (*DB, error) {
	if err := checkPath(path, mode == openCreate); err != nil {
		return nil, fmt.Errorf("open tracker %q: %w", path, err)
	}
	sdb, err := sql.Open("sqlite3", dsn(path, busy, mode))
	if err != nil {
		return nil, fmt.Errorf("open tracker %q: %w", path, err)
	}
	db := &DB{path: path, sql: sdb, recorders: map[*Recorder]struct{}{}, readOnly: mode == openReadOnly}
	if err := db.init(mode); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open tracker %q: %w", path, explainOpenError(err))
	}
	return db, nil
}

// ReadOnly reports whether db was opened read-only because the disk could
// not be written (see OpenExisting): every write fails.
func (db *DB) ReadOnly() bool { return db.readOnly }

// cannotWrite reports whether err is SQLite failing for want of a writable
// disk: full, read-only, or an I/O error creating its files.
func cannotWrite(err error) bool {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code {
	case sqlite3.ErrIoErr, sqlite3.ErrFull, sqlite3.ErrReadonly, sqlite3.ErrCantOpen:
		return true
	}
	return false
}

// walEmpty reports whether path has no write-ahead log with content: the
// database file alone is then the whole database.
func walEmpty(path string) bool {
	fi, err := os.Stat(path + "-wal")
	return err != nil || fi.Size() == 0
}

// dsn builds a go-sqlite3 URI. The path is percent-escaped so names with
// '?', '#' or '%' still open the intended file. The journal mode is not in
// it: go-sqlite3 would set it on every new connection and fail at once, not
// waiting, while another process holds the fresh file's lock; init sets it
// once (it is stored in the file) with retries. openExisting opens the file
// read-write but never creates it; openReadOnly reads it as immutable.
func dsn(path string, busy time.Duration, mode openMode) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	access := map[openMode]string{openCreate: "mode=rwc", openExisting: "mode=rw", openReadOnly: "mode=ro&immutable=1"}[mode]
	return fmt.Sprintf("file:%s?%s&_synchronous=NORMAL&_foreign_keys=on&_txlock=immediate&_busy_timeout=%d&_stmt_cache_size=32&_cache_size=-32000",
		esc, access, busy.Milliseconds())
}

// init connects, checks the file is ours, switches it to WAL and migrates
// it. A database already at this build's version is only read: opening for
// a listing must work on a full disk. Unless creating, a file with no vaexp
// schema is refused rather than given one.
func (db *DB) init(mode openMode) error {
	ctx := context.Background()
	db.sql.SetMaxIdleConns(4)
	// The first statement reads the file header, so a corrupt file fails here.
	v, err := userVersion(ctx, db.sql)
	if err != nil {
		return err
	}
	if v > currentVersion() {
		return newerSchemaError(v)
	}
	if v == 0 && mode != openCreate {
		return &PathError{Path: db.path, Err: fmt.Errorf("holds no vaexp runs (an empty file, or another program's database); point --db or %s at a tracker database, or train a run first", EnvDB)}
	}
	if mode == openReadOnly {
		if v < currentVersion() {
			return fmt.Errorf("schema version %d needs an upgrade to %d, which needs a writable disk", v, currentVersion())
		}
		return nil
	}
	if err := setWAL(ctx, db.sql); err != nil {
		return err
	}
	if v < currentVersion() {
		return migrate(ctx, db.sql, currentVersion())
	}
	return nil
}

// setWAL switches the file to WAL mode unless it is in it already (the mode
// is stored in the file: then this only reads). The switch needs the file's
// exclusive lock; SQLite can report it busy, or refuse silently by answering
// the old mode, while another process creates the schema: retry then.
func setWAL(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) error {
	var mode string
	err := withRetry(func() error {
		if err := q.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
			return err
		}
		if !strings.EqualFold(mode, "wal") {
			return sqlite3.Error{Code: sqlite3.ErrBusy}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("switch to WAL mode (journal mode %q): %w", mode, err)
	}
	return nil
}

// newerSchemaError is the error for a file written by a newer vaexp.
func newerSchemaError(v int) error {
	return fmt.Errorf("schema version %d is newer than this vaexp build supports (%d); upgrade vaexp or use another --db", v, currentVersion())
}

// explainOpenError adds the likely fix to SQLite's terse open errors.
func explainOpenError(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code {
	case sqlite3.ErrCantOpen, sqlite3.ErrPerm, sqlite3.ErrReadonly:
		return fmt.Errorf("%w (is the directory writable? set --db or %s)", err, EnvDB)
	case sqlite3.ErrNotADB, sqlite3.ErrCorrupt:
		return fmt.Errorf("%w (not a vaexp tracker file? choose another with --db or %s)", err, EnvDB)
	}
	return err
}

// Close flushes and stops every Recorder still open on db (their runs stay
// 'running' until MarkStale or a later Finish), then closes the file.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return nil
	}
	db.closed = true
	recs := make([]*Recorder, 0, len(db.recorders))
	for r := range db.recorders {
		recs = append(recs, r)
	}
	db.mu.Unlock()
	var errs []error
	for _, r := range recs {
		if err := r.shutdown(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := db.sql.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close tracker %q: %w", db.path, err))
	}
	return errors.Join(errs...)
}

// Path returns the path db was opened with.
func (db *DB) Path() string { return db.path }

// SchemaVersion returns the database's schema version (PRAGMA user_version).
func (db *DB) SchemaVersion() (int, error) {
	v, err := userVersion(context.Background(), db.sql)
	if err != nil {
		return 0, fmt.Errorf("read schema version of %q: %w", db.path, err)
	}
	return v, nil
}

// write runs fn in one write transaction (BEGIN IMMEDIATE), retrying the
// whole transaction if SQLite still reports the file busy after its own
// busy timeout. fn must be safe to call again after a rollback.
func (db *DB) write(fn func(tx *sql.Tx) error) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	return withRetry(func() error {
		tx, err := db.sql.Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Commit()
	})
}

// retryDelays are the pauses between attempts of a busy transaction.
var retryDelays = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond, time.Second}

// withRetry calls fn until it succeeds, fails with something other than
// SQLITE_BUSY/SQLITE_LOCKED, or the retry delays run out.
func withRetry(fn func() error) error {
	for i := 0; ; i++ {
		err := fn()
		if err == nil || !isBusy(err) || i == len(retryDelays) {
			return err
		}
		time.Sleep(retryDelays[i])
	}
}

func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// Status values a run can have. A run moves from running to exactly one of
// the others, or back to running when resumed.
const (
	StatusRunning  = "running"
	StatusFinished = "finished"
	StatusFailed   = "failed"
	StatusKilled   = "killed"
	StatusStalled  = "stalled"
	StatusPruned   = "pruned"
)

var statuses = []string{StatusRunning, StatusFinished, StatusFailed, StatusKilled, StatusStalled, StatusPruned}

func checkStatus(s string) error {
	for _, v := range statuses {
		if s == v {
			return nil
		}
	}
	return fmt.Errorf("status %q is not valid (use one of %s)", s, strings.Join(statuses, ", "))
}

func runNotFound(id int64) error {
	return fmt.Errorf("run %d %w; list runs with `vaexp runs list`", id, ErrNotFound)
}

// unixNow is the current time as stored in the database.
func unixNow() float64 { return toUnix(time.Now()) }

func toUnix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// fromUnix converts stored seconds back, rounded to the microsecond a float64
// of today's unix time can hold.
func fromUnix(s sql.NullFloat64) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	return time.UnixMicro(int64(math.Round(s.Float64 * 1e6))).UTC()
}

// nullIfNaN maps NaN to SQL NULL, which is what SQLite would store anyway;
// doing it explicitly keeps the convention visible.
func nullIfNaN(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

func nanIfNull(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
