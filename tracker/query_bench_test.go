package tracker

import (
	"database/sql"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bench10k.dir != "" {
		os.RemoveAll(bench10k.dir)
	}
	os.Exit(code)
}

// bench10k is a database of 10,000 finished runs with 5 params, 1 tag and
// 100 metric points each (train/loss × 80 steps, val/nelbo × 16 epochs,
// test/nelbo, test/recon, test/kl, test/iwae_nll), built once per test
// process and removed by TestMain.
var bench10k struct {
	once sync.Once
	dir  string
	path string
	took time.Duration
	err  error
}

// bench10kSQL fills an empty database in one transaction, generating rows
// inside SQLite: about 1M metric rows in a few seconds.
var bench10kSQL = []string{
	`INSERT INTO experiments(id, name, created_at) VALUES (1, 'bench', 1.7e9)`,
	`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
	INSERT INTO runs(id, experiment_id, name, family, status, started_at, ended_at, heartbeat_at, seed, sweep, host, pid)
	SELECT i, 1, 'run-' || i,
		CASE i % 4 WHEN 0 THEN 'vae' WHEN 1 THEN 'beta-vae' WHEN 2 THEN 'factorvae' ELSE 'iwae' END,
		CASE WHEN i % 17 = 0 THEN 'failed' WHEN i % 31 = 0 THEN 'killed' ELSE 'finished' END,
		1.7e9 + i * 60, 1.7e9 + i * 60 + 50, 1.7e9 + i * 60 + 50, i % 5, 'grid-' || (i / 1000), 'bench', 0
	FROM n`,
	`INSERT INTO params(run_id, key, type, value_text, value_num)
	SELECT id, key, type, CAST(v AS TEXT), CASE WHEN type = 'string' THEN NULL ELSE v END FROM (
		SELECT id, 'beta' AS key, 'float' AS type, CASE id % 6 WHEN 0 THEN 1 WHEN 1 THEN 2 WHEN 2 THEN 4 WHEN 3 THEN 6 WHEN 4 THEN 8 ELSE 16 END AS v FROM runs
		UNION ALL SELECT id, 'lr', 'float', CASE id % 3 WHEN 0 THEN 0.001 WHEN 1 THEN 0.0003 ELSE 0.0001 END FROM runs
		UNION ALL SELECT id, 'latent', 'int', 10 * (1 + id % 3) FROM runs
		UNION ALL SELECT id, 'optimizer', 'string', CASE id % 2 WHEN 0 THEN 'adam' ELSE 'sgd' END FROM runs
		UNION ALL SELECT id, 'seed', 'int', id % 5 FROM runs)
	ORDER BY id, key`,
	`INSERT INTO tags(run_id, key, value) SELECT id, 'note', 'n' || (id % 10) FROM runs`,
	`WITH RECURSIVE s(step) AS (SELECT 0 UNION ALL SELECT step + 1 FROM s WHERE step < 79)
	INSERT INTO metrics(run_id, key, step, value, time)
	SELECT run_id, key, step, value, 1.7e9 FROM (
		SELECT r.id AS run_id, 'train/loss' AS key, s.step AS step, 200.0 - s.step + (r.id * 7919 % 997) / 10.0 AS value FROM runs r, s
		UNION ALL SELECT r.id, 'val/nelbo', s.step, 150.0 - s.step + (r.id * 7919 % 997) / 10.0 FROM runs r, s WHERE s.step < 16
		UNION ALL SELECT r.id, 'test/nelbo', 0, 85.0 + (r.id * 7919 % 2003) / 100.0 FROM runs r
		UNION ALL SELECT r.id, 'test/recon', 0, 60.0 + (r.id * 104729 % 2003) / 100.0 FROM runs r
		UNION ALL SELECT r.id, 'test/kl', 0, 20.0 + (r.id * 7 % 101) / 10.0 FROM runs r
		UNION ALL SELECT r.id, 'test/iwae_nll', 0, 84.0 + (r.id * 7919 % 2003) / 100.0 FROM runs r)
	ORDER BY run_id, key, step`,
	`INSERT INTO latest_metrics(run_id, key, step, value, min_value, max_value)
	SELECT m.run_id, m.key, m.step, m.value, a.lo, a.hi
	FROM (SELECT run_id, key, max(step) AS last, min(value) AS lo, max(value) AS hi FROM metrics GROUP BY run_id, key) AS a
	JOIN metrics AS m ON m.run_id = a.run_id AND m.key = a.key AND m.step = a.last`,
}

// open10k opens (building on first use) the shared 10k-run database.
func open10k(b *testing.B) *DB {
	b.Helper()
	bench10k.once.Do(func() {
		start := time.Now()
		if bench10k.dir, bench10k.err = os.MkdirTemp("", "vaexp-bench10k-"); bench10k.err != nil {
			return
		}
		bench10k.path = filepath.Join(bench10k.dir, "vaexp.db")
		db, err := Open(bench10k.path)
		if err != nil {
			bench10k.err = err
			return
		}
		defer db.Close()
		bench10k.err = db.write(func(tx *sql.Tx) error {
			for _, s := range bench10kSQL {
				if _, err := tx.Exec(s); err != nil {
					return err
				}
			}
			return nil
		})
		bench10k.took = time.Since(start)
	})
	if bench10k.err != nil {
		b.Fatal(bench10k.err)
	}
	db, err := Open(bench10k.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// benchQuery times run and reports how many runs (or groups) it returns.
func benchQuery(b *testing.B, run func() (int, error)) {
	b.Helper()
	n, err := run() // warm the page cache and check
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := run(); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time shows the cost on a machine shared with other work, where
	// wall time stretches.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(n), "runs")
}

// processCPU is this process's user+system CPU time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func all(q *Query) func() (int, error) {
	return func() (int, error) {
		rows, err := q.All()
		return len(rows), err
	}
}

// BenchmarkList10k lists the 10k-run database: everything with params,
// metric summaries and tags; a newest-first page; a page ordered by a
// final metric; ids only.
func BenchmarkList10k(b *testing.B) {
	db := open10k(b)
	b.Logf("10k-run database built in %v", bench10k.took.Round(time.Millisecond))
	b.Run("all", func(b *testing.B) { benchQuery(b, all(db.Runs())) })
	b.Run("page50", func(b *testing.B) { benchQuery(b, all(db.Runs().Limit(50))) })
	b.Run("by-metric-page50", func(b *testing.B) {
		benchQuery(b, all(db.Runs().OrderBy("metrics.test/nelbo asc").Limit(50)))
	})
	b.Run("ids", func(b *testing.B) {
		benchQuery(b, func() (int, error) { ids, err := db.Runs().IDs(); return len(ids), err })
	})
}

// BenchmarkFilter10k filters the 10k-run database.
func BenchmarkFilter10k(b *testing.B) {
	db := open10k(b)
	for _, tc := range []struct{ name, where, order string }{
		{"param-and-metric", "params.beta = 4 AND metrics.test_nelbo < 90", ""},
		{"or-not-tags", "(family = 'vae' OR tags.note IN ('n1', 'n2')) AND NOT status = 'failed'", ""},
		{"min-metric", "min(metrics.train/loss) < 130 AND params.optimizer = 'adam'", "metrics.test/nelbo"},
		{"sweep-ordered", "sweep = 'grid-3'", "metrics.test/nelbo asc"},
		{"string-like", "name LIKE 'run-99%' OR params.lr <= 1e-4", "params.beta desc, id"},
		{"none-match", "metrics.test/nelbo < 0", ""},
	} {
		b.Run(tc.name, func(b *testing.B) { benchQuery(b, all(db.Runs().Where(tc.where).OrderBy(tc.order))) })
	}
	b.Run("count", func(b *testing.B) {
		q := db.Runs().Where("params.beta >= 4 AND metrics.test/nelbo < 95")
		benchQuery(b, q.Count)
	})
}

// BenchmarkGroup10k groups the 10k runs by beta over the final test NELBO.
func BenchmarkGroup10k(b *testing.B) {
	db := open10k(b)
	benchQuery(b, func() (int, error) {
		gs, err := db.Group("status = 'finished'", "params.beta", "metrics.test/nelbo")
		return len(gs), err
	})
}
