package tracker

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestRecordEvaluations adds figures to a finished run and checks the rows
// training wrote are untouched, the new ones sit at the run's last step with
// their versions as tags, and re-evaluating replaces only its own rows.
func TestRecordEvaluations(t *testing.T) {
	db, _ := openTemp(t)
	rec, err := db.StartRun(RunInfo{Experiment: "e", Family: "vae", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for s := range int64(5) {
		rec.LogMetric("train/loss", s, 100-float64(s))
	}
	rec.LogMetric("test/nelbo", 4, 90)
	if err := rec.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	id := rec.RunID()
	dump := func() string {
		rows, err := db.sql.Query(`SELECT key, step, value, time FROM metrics WHERE run_id = ? AND key NOT LIKE 'eval/%' ORDER BY key, step`, id)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var k string
			var s int64
			var v, tm float64
			if err := rows.Scan(&k, &s, &v, &tm); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %d %v %v\n", k, s, v, tm)
		}
		return b.String()
	}
	before := dump()
	var beforeSum float64
	if err := db.sql.QueryRow(`SELECT sum(value) + sum(time) FROM metrics WHERE run_id = ?`, id).Scan(&beforeSum); err != nil {
		t.Fatal(err)
	}

	step, err := db.RecordEvaluations(id, -1, []Evaluation{
		{Key: "eval/fid", Value: 12.5, Describe: "fid-lenet/v1 n=10"},
		{Key: "eval/is", Value: math.NaN(), Describe: "is-lenet/v1 n=10"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if step != 4 {
		t.Errorf("step %d, want the run's last step 4", step)
	}
	if got := latestOf(t, db, id, "eval/fid"); got.Value != 12.5 || got.Step != 4 {
		t.Errorf("eval/fid latest %+v", got)
	}
	if got := latestOf(t, db, id, "eval/is"); !math.IsNaN(got.Value) {
		t.Errorf("eval/is latest %+v, want NaN", got)
	}
	tags, err := db.Tags(id)
	if err != nil {
		t.Fatal(err)
	}
	if tags["eval/fid"] != "fid-lenet/v1 n=10" {
		t.Errorf("tags %v", tags)
	}
	// Again, another version: replaces the figure and its tag, nothing else.
	if _, err := db.RecordEvaluations(id, -1, []Evaluation{{Key: "eval/fid", Value: 11, Describe: "fid-lenet/v2 n=20"}}); err != nil {
		t.Fatal(err)
	}
	if got := latestOf(t, db, id, "eval/fid"); got.Value != 11 || got.Step != 4 {
		t.Errorf("eval/fid after re-evaluation %+v", got)
	}
	if n := countRows(t, db, `SELECT count(*) FROM metrics WHERE run_id = ? AND key = 'eval/fid'`, id); n != 1 {
		t.Errorf("%d eval/fid rows, want 1", n)
	}
	tags, _ = db.Tags(id)
	if tags["eval/fid"] != "fid-lenet/v2 n=20" {
		t.Errorf("tag after re-evaluation %q", tags["eval/fid"])
	}
	var afterSum float64
	if err := db.sql.QueryRow(`SELECT sum(value) + sum(time) FROM metrics WHERE run_id = ? AND key NOT LIKE 'eval/%'`, id).Scan(&afterSum); err != nil {
		t.Fatal(err)
	}
	if dump() != before || afterSum != beforeSum {
		t.Errorf("training rows changed: %q → %q, sums %v → %v", before, dump(), beforeSum, afterSum)
	}
	// An explicit step (training-time evaluation) is kept.
	if s, err := db.RecordEvaluations(id, 2, []Evaluation{{Key: "eval/fid", Value: 30, Describe: "fid-lenet/v2 n=20"}}); err != nil || s != 2 {
		t.Fatalf("step %d, %v", s, err)
	}
	if got := latestOf(t, db, id, "eval/fid"); got.Value != 11 || got.Max != 30 {
		t.Errorf("latest after an earlier step %+v", got)
	}

	for _, bad := range []Evaluation{
		{Key: "test/nelbo", Value: 1, Describe: "x/v1"},
		{Key: "eval/", Value: 1, Describe: "x/v1"},
		{Key: "eval/fid", Value: 1},
	} {
		if _, err := db.RecordEvaluations(id, -1, []Evaluation{bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := db.RecordEvaluations(999, -1, []Evaluation{{Key: "eval/fid", Value: 1, Describe: "v"}}); err == nil || !strings.Contains(err.Error(), "999") {
		t.Errorf("missing run: %v", err)
	}
}
