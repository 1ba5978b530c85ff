package tracker

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one schema version: the SQL steps that take a database from
// version-1 to version. Steps run in order inside a single transaction that
// also bumps PRAGMA user_version, so a crash leaves the old version intact.
type migration struct {
	version int
	name    string
	steps   []string
}

// migrations is the ordered schema history. Never edit a released entry;
// append a new one. SCHEMA.md documents the resulting schema.
var migrations = []migration{
	{
		version: 1,
		name:    "initial tables",
		steps: []string{
			`CREATE TABLE experiments (
				id         INTEGER PRIMARY KEY,
				name       TEXT NOT NULL UNIQUE,
				created_at REAL NOT NULL
			)`,
			`CREATE TABLE runs (
				id            INTEGER PRIMARY KEY AUTOINCREMENT,
				experiment_id INTEGER NOT NULL REFERENCES experiments(id),
				name          TEXT NOT NULL DEFAULT '',
				family        TEXT NOT NULL DEFAULT '',
				status        TEXT NOT NULL DEFAULT 'running'
				              CHECK (status IN ('running','finished','failed','killed','stalled','pruned')),
				started_at    REAL NOT NULL,
				ended_at      REAL,
				seed          INTEGER NOT NULL DEFAULT 0,
				backend       TEXT NOT NULL DEFAULT '',
				command       TEXT NOT NULL DEFAULT '',
				git_commit    TEXT NOT NULL DEFAULT '',
				host          TEXT NOT NULL DEFAULT '',
				pid           INTEGER NOT NULL DEFAULT 0,
				run_dir       TEXT NOT NULL DEFAULT '',
				error         TEXT
			)`,
			`CREATE TABLE params (
				run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
				key        TEXT NOT NULL,
				type       TEXT NOT NULL CHECK (type IN ('int','float','string','bool')),
				value_text TEXT NOT NULL,
				value_num  REAL,
				PRIMARY KEY (run_id, key)
			) WITHOUT ROWID`,
			`CREATE TABLE metrics (
				run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
				key    TEXT NOT NULL,
				step   INTEGER NOT NULL,
				value  REAL,
				time   REAL NOT NULL,
				PRIMARY KEY (run_id, key, step)
			) WITHOUT ROWID`,
			`CREATE TABLE latest_metrics (
				run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
				key       TEXT NOT NULL,
				step      INTEGER NOT NULL,
				value     REAL,
				min_value REAL,
				max_value REAL,
				PRIMARY KEY (run_id, key)
			) WITHOUT ROWID`,
			`CREATE TABLE tags (
				run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
				key    TEXT NOT NULL,
				value  TEXT NOT NULL,
				PRIMARY KEY (run_id, key)
			) WITHOUT ROWID`,
			`CREATE TABLE artifacts (
				id         INTEGER PRIMARY KEY,
				run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
				name       TEXT NOT NULL,
				step       INTEGER NOT NULL,
				mime       TEXT NOT NULL DEFAULT '',
				data       BLOB NOT NULL,
				created_at REAL NOT NULL,
				UNIQUE (run_id, name, step)
			)`,
		},
	},
	{
		version: 2,
		name:    "run heartbeats and listing indexes",
		steps: []string{
			`ALTER TABLE runs ADD COLUMN heartbeat_at REAL`,
			// Older runs never beat; their last sign of life is when they ended
			// or, failing that, when they started.
			`UPDATE runs SET heartbeat_at = coalesce(ended_at, started_at)`,
			`CREATE INDEX runs_status_heartbeat ON runs(status, heartbeat_at)`,
			`CREATE INDEX runs_experiment ON runs(experiment_id, started_at)`,
			// Filtering runs by a final metric ("loss < 90") scans this index,
			// not every run's history.
			`CREATE INDEX latest_metrics_key_value ON latest_metrics(key, value)`,
		},
	},
	{
		version: 3,
		name:    "sweep column and query indexes",
		steps: []string{
			// The sweep a run belongs to ('' for none). A column rather than a
			// tag so `sweep = 'x'` is an indexed lookup and sweeps can rely on it.
			`ALTER TABLE runs ADD COLUMN sweep TEXT NOT NULL DEFAULT ''`,
			`CREATE INDEX runs_sweep ON runs(sweep, started_at)`,
			// Newest-first listing with a limit reads this index, not every run.
			`CREATE INDEX runs_started ON runs(started_at, id)`,
			// Filters on params and tags ("params.beta = 4", "tags.note = 'x'")
			// look up (key, value) here instead of scanning the tables.
			`CREATE INDEX params_key_num ON params(key, value_num)`,
			`CREATE INDEX params_key_text ON params(key, value_text)`,
			`CREATE INDEX tags_key_value ON tags(key, value)`,
		},
	},
	{
		version: 4,
		name:    "sweeps, sweep trials and run uids",
		steps: []string{
			// A run's identity across database files, so `tracker merge`
			// recognizes a run it has already copied. Filled by a trigger, so
			// every writer (this build, an older one, any SQLite client) gets one.
			`ALTER TABLE runs ADD COLUMN uid TEXT`,
			`UPDATE runs SET uid = lower(hex(randomblob(16)))`,
			`CREATE UNIQUE INDEX runs_uid ON runs(uid)`,
			`CREATE TRIGGER runs_uid_default AFTER INSERT ON runs FOR EACH ROW WHEN NEW.uid IS NULL
			BEGIN
				UPDATE runs SET uid = lower(hex(randomblob(16))) WHERE id = NEW.id;
			END`,
			// A sweep: its spec text (YAML, as written), method, state and the
			// controller holding it (owner_*: one controller at a time).
			`CREATE TABLE sweeps (
				id         INTEGER PRIMARY KEY AUTOINCREMENT,
				name       TEXT NOT NULL UNIQUE,
				method     TEXT NOT NULL,
				spec       TEXT NOT NULL,
				metric     TEXT NOT NULL DEFAULT '',
				direction  TEXT NOT NULL DEFAULT 'min' CHECK (direction IN ('min','max')),
				state      TEXT NOT NULL DEFAULT 'created'
				           CHECK (state IN ('created','running','stopped','finished')),
				created_at REAL NOT NULL,
				updated_at REAL NOT NULL,
				owner_pid  INTEGER NOT NULL DEFAULT 0,
				owner_host TEXT NOT NULL DEFAULT '',
				owner_beat REAL
			)`,
			// One row per trial (configuration × seed), claimed atomically by
			// workers; run_id links the trial's run once it exists.
			`CREATE TABLE sweep_trials (
				sweep_id    INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
				idx         INTEGER NOT NULL,
				config      TEXT NOT NULL,
				seed        INTEGER NOT NULL,
				state       TEXT NOT NULL DEFAULT 'pending'
				            CHECK (state IN ('pending','running','paused','finished','pruned','failed')),
				rung        INTEGER NOT NULL DEFAULT 0,
				budget      INTEGER NOT NULL DEFAULT 0,
				run_id      INTEGER REFERENCES runs(id) ON DELETE SET NULL,
				value       REAL,
				worker_host TEXT NOT NULL DEFAULT '',
				worker_pid  INTEGER NOT NULL DEFAULT 0,
				error       TEXT,
				updated_at  REAL NOT NULL,
				PRIMARY KEY (sweep_id, idx)
			) WITHOUT ROWID`,
			`CREATE INDEX sweep_trials_state ON sweep_trials(sweep_id, state, rung)`,
			// The metric of each trial at each successive-halving rung it reached.
			`CREATE TABLE sweep_rungs (
				sweep_id INTEGER NOT NULL,
				idx      INTEGER NOT NULL,
				rung     INTEGER NOT NULL,
				budget   INTEGER NOT NULL,
				step     INTEGER NOT NULL,
				value    REAL,
				PRIMARY KEY (sweep_id, idx, rung),
				FOREIGN KEY (sweep_id, idx) REFERENCES sweep_trials(sweep_id, idx) ON DELETE CASCADE
			) WITHOUT ROWID`,
		},
	},
}

// currentVersion is the schema version this build writes.
func currentVersion() int { return migrations[len(migrations)-1].version }

// userVersion reads PRAGMA user_version through q.
func userVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, err
	}
	return v, nil
}

// checkForeign refuses a database that has tables but no vaexp schema
// version. Called within the first migration's write transaction.
func checkForeign(ctx context.Context, tx *sql.Tx) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("database has %d tables but no vaexp schema version (another program's database? choose another with --db or %s)", n, EnvDB)
	}
	return nil
}

// migrate brings the database up to version target, one transaction per
// migration. The version is re-read inside each transaction (which holds the
// write lock from BEGIN IMMEDIATE), so two processes opening a fresh file at
// once do not both apply the same migration, and the check for another
// program's tables happens there too: outside it, a process could read the
// version of an empty file and then count the tables another process has
// just created with theirs.
func migrate(ctx context.Context, db *sql.DB, target int) error {
	for _, m := range migrations {
		if m.version > target {
			break
		}
		err := withRetry(func() error {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			v, err := userVersion(ctx, tx)
			if err != nil {
				return err
			}
			if v > target {
				return newerSchemaError(v)
			}
			if v >= m.version {
				return nil
			}
			if v == 0 {
				// Inside the transaction: no other vaexp can be half way
				// through creating the schema, so tables without a version
				// are another program's.
				if err := checkForeign(ctx, tx); err != nil {
					return err
				}
			}
			for _, s := range m.steps {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return err
				}
			}
			// PRAGMA takes no placeholders; the version is a constant from
			// the migrations table, not user input.
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
				return err
			}
			return tx.Commit()
		})
		if err != nil {
			return fmt.Errorf("migrate schema to v%d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
