package tracker

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// openRaw opens path with the driver's defaults, as another SQLite client
// (or an older vaexp) would.
func openRaw(path string) (*sql.DB, error) {
	return sql.Open("sqlite3", "file:"+path+"?_txlock=immediate&_busy_timeout=10000")
}

// schemaDump lists the schema objects so tests can compare two databases.
func schemaDump(t testing.TB, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, s string
		if err := rows.Scan(&typ, &name, &s); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s: %s\n", typ, name, s)
	}
	return b.String()
}

func TestMigrationsAreConsecutive(t *testing.T) {
	for i, m := range migrations {
		if m.version != i+1 || m.name == "" || len(m.steps) == 0 {
			t.Errorf("migration %d: version %d, name %q, %d steps", i, m.version, m.name, len(m.steps))
		}
	}
	if currentVersion() < 3 {
		t.Errorf("current version %d; the migration tests expect at least v3", currentVersion())
	}
}

// TestMigrateFromEveryVersion builds a database at each earlier version,
// writes a run the way that version's code would, and checks Open brings it
// to the current version with the run intact.
func TestMigrateFromEveryVersion(t *testing.T) {
	fresh, _ := openTemp(t)
	want := schemaDump(t, fresh.sql)
	for v := 1; v < currentVersion(); v++ {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			raw, err := openRaw(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := migrate(context.Background(), raw, v); err != nil {
				t.Fatal(err)
			}
			if got, _ := userVersion(context.Background(), raw); got != v {
				t.Fatalf("built version %d, want %d", got, v)
			}
			started := float64(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Unix())
			for _, st := range []struct {
				sql  string
				args []any
			}{
				{`INSERT INTO experiments(id, name, created_at) VALUES (1, 'old', ?)`, []any{started}},
				{`INSERT INTO runs(id, experiment_id, name, family, status, started_at, ended_at, seed) VALUES (5, 1, 'r', 'vae', 'finished', ?, ?, 3)`, []any{started, started + 60}},
				{`INSERT INTO metrics(run_id, key, step, value, time) VALUES (5, 'loss', 1, 2.5, ?)`, []any{started}},
				{`INSERT INTO latest_metrics(run_id, key, step, value, min_value, max_value) VALUES (5, 'loss', 1, 2.5, 2.5, 2.5)`, nil},
			} {
				if _, err := raw.Exec(st.sql, st.args...); err != nil {
					t.Fatalf("%s: %v", st.sql, err)
				}
			}
			if v >= 2 { // v2 code beats, and sets the last beat when a run ends
				if _, err := raw.Exec(`UPDATE runs SET heartbeat_at = ended_at`); err != nil {
					t.Fatal(err)
				}
			}
			raw.Close()

			db, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got, err := db.SchemaVersion(); err != nil || got != currentVersion() {
				t.Fatalf("version after Open = %d, %v; want %d", got, err, currentVersion())
			}
			if got := schemaDump(t, db.sql); got != want {
				t.Errorf("migrated schema differs from a fresh one:\n%s\nwant\n%s", got, want)
			}
			run, err := db.Run(5)
			if err != nil {
				t.Fatal(err)
			}
			if run.Name != "r" || run.Experiment != "old" || run.Seed != 3 || run.Status != StatusFinished ||
				!run.StartedAt.Equal(time.Unix(int64(started), 0)) {
				t.Errorf("run after migration = %+v", run)
			}
			// v2 backfills heartbeat_at from the last sign of life (v2 code
			// wrote it itself).
			if !run.HeartbeatAt.Equal(run.EndedAt) {
				t.Errorf("heartbeat %v, want ended_at %v", run.HeartbeatAt, run.EndedAt)
			}
			if h, err := db.MetricHistory(5, "loss"); err != nil || len(h) != 1 || h[0].Value != 2.5 {
				t.Errorf("history after migration = %v, %v", h, err)
			}
			// v3 adds the sweep column (empty for old runs) and the query indexes.
			if run.Sweep != "" {
				t.Errorf("sweep of an old run = %q", run.Sweep)
			}
			if got, err := db.Runs().Where("sweep = '' AND metrics.loss < 3 AND family = 'vae'").IDs(); err != nil || len(got) != 1 || got[0] != 5 {
				t.Errorf("query on the migrated file = %v, %v", got, err)
			}
			// The migrated file takes new runs.
			rec, err := db.StartRun(RunInfo{Experiment: "old"})
			if err != nil {
				t.Fatal(err)
			}
			if err := rec.Finish(StatusFinished, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestOpenCurrentIsNoop(t *testing.T) {
	db, path := openTemp(t)
	rec, _ := db.StartRun(RunInfo{})
	rec.Finish(StatusFinished, nil)
	before := schemaDump(t, db.sql)
	db.Close()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if after := schemaDump(t, db.sql); after != before {
		t.Errorf("reopening changed the schema:\n%s\nwas\n%s", after, before)
	}
	if runs, _ := db.ListRuns(); len(runs) != 1 {
		t.Errorf("%d runs after reopen", len(runs))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	db, path := openTemp(t)
	next := currentVersion() + 1
	if _, err := db.sql.Exec(fmt.Sprintf("PRAGMA user_version = %d", next)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(path)
	if err == nil {
		t.Fatal("Open accepted a newer schema")
	}
	for _, w := range []string{path, fmt.Sprint(next), "newer", "upgrade vaexp"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}
