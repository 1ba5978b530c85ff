package main

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// TestEvalCommand adds figures to trained runs through the CLI and checks
// what it prints, what it records and how it refuses what a family cannot do.
// (fid, is and pr go through the same path with the cached classifier; the
// experiments tests cover them with a small one.)
func TestEvalCommand(t *testing.T) {
	e := newEnv(t)
	for _, model := range []string{"vae", "ae"} {
		e.ok("train", "--model", model, "--limit", "512", "--test-limit", "100", "--batch-size", "64", "--steps", "4", "--samples", "0", "--quiet")
	}
	before := recordedRows(t, e.db)
	out := e.ok("eval", "1", "--metrics", "au,nll", "-n", "50", "--iwae-k", "3")
	if after := recordedRows(t, e.db); after != before {
		t.Errorf("eval changed rows training recorded:\nbefore %s\nafter  %s", before, after)
	}
	for _, want := range []string{"eval/active_units", "eval/nll", "iwae-nll/v1", "k=3", "n=50", "recorded 2 figures in run 1 at step 4"} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}
	show := e.ok("runs", "show", "1")
	for _, want := range []string{"eval/nll", "au/v1 binarize=none n=50 split=test threshold=0.01", "test/nelbo"} {
		if !strings.Contains(show, want) {
			t.Errorf("runs show lacks %q:\n%s", want, show)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", "2", "--metrics", "nll"}, 1, `nll needs an importance sampler (LogLikelihood), which family "ae" does not provide`},
		{[]string{"eval", "1", "--metrics", "fid,bogus"}, 2, `metric "bogus": use one of fid,is,pr,au,kl,nll`},
		{[]string{"eval", "1", "--split", "dev"}, 2, `--split "dev"`},
		{[]string{"eval", "1", "-n", "1"}, 2, "-n must be at least 2"},
		{[]string{"eval", "9", "--metrics", "au"}, 1, "9"},
	} {
		if code := e.run(tc.args...); code != tc.code || !strings.Contains(e.stderr, tc.want) {
			t.Errorf("vaexp %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, e.stderr, tc.code, tc.want)
		}
	}
}

// recordedRows is every metric row and tag not written by an evaluation
// (keys outside eval/), in one string, read straight from the SQLite file.
func recordedRows(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b strings.Builder
	for _, q := range []string{
		"SELECT run_id, key, step, value FROM metrics WHERE key NOT LIKE 'eval/%' ORDER BY run_id, key, step",
		"SELECT run_id, key, value, 0 FROM tags WHERE key NOT LIKE 'eval/%' ORDER BY run_id, key",
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var run int64
			var key, a, c any
			if err := rows.Scan(&run, &key, &a, &c); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%d %v %v %v;", run, key, a, c)
			n++
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if n == 0 && strings.Contains(q, "FROM metrics") {
			t.Fatalf("no rows for %s", q)
		}
	}
	return b.String()
}
