package tracker

import (
	"database/sql"
	"fmt"
	"strings"
)

// EvalPrefix starts the key of every figure added to a run by evaluation
// (`vaexp eval`, or the run driver at the end of training): "eval/fid",
// "eval/is", "eval/nll". Training never writes such keys, so evaluating a run
// never touches the rows its training recorded.
const EvalPrefix = "eval/"

// Evaluation is one figure added to a run, with what it depends on.
type Evaluation struct {
	// Key is the metric key; it must start with EvalPrefix.
	Key string
	// Value is the figure (NaN is stored as NULL, as for every metric).
	Value float64
	// Describe is the metric's version followed by its settings, one line:
	// "fid-lenet/v1 classifier=lenet/v1@3f2a9c1e n=10000 ref_split=test".
	Describe string
}

// RecordEvaluations adds figures to run id in one transaction: each as a
// metric row at step (step < 0: the run's last recorded step, 0 if it has
// none), with latest_metrics kept in step, and each one's version and
// settings as the tag of the same name (tag "eval/fid" = "fid-lenet/v1 …").
// Only keys under EvalPrefix may be written; evaluating again at the same
// step replaces that figure and its tag. The run may have any status,
// including runs recorded before evaluation existed. It returns the step
// used.
//
// The version is a tag rather than a column because a tag needs no schema
// migration, is shown by `runs show`, exported with the run and filtered
// like any tag (`tags.eval/fid LIKE 'fid-lenet/v1 %'`); the tag describes the
// newest value of its key.
func (db *DB) RecordEvaluations(id, step int64, evals []Evaluation) (int64, error) {
	for _, e := range evals {
		if !strings.HasPrefix(e.Key, EvalPrefix) || len(e.Key) == len(EvalPrefix) {
			return 0, fmt.Errorf("record evaluation %q of run %d: evaluation keys start with %q (e.g. eval/fid)", e.Key, id, EvalPrefix)
		}
		if e.Describe == "" {
			return 0, fmt.Errorf("record evaluation %q of run %d: no version", e.Key, id)
		}
	}
	err := db.write(func(tx *sql.Tx) error {
		var err error
		if step, err = afterRunStep(tx, id, step); err != nil {
			return err
		}
		now := unixNow()
		for _, e := range evals {
			if _, err := tx.Exec(`INSERT INTO metrics(run_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT(run_id, key, step) DO UPDATE SET value = excluded.value, time = excluded.time`,
				id, e.Key, step, nullIfNaN(e.Value), now); err != nil {
				return fmt.Errorf("metric %q: %w", e.Key, err)
			}
			if err := recomputeLatest(tx, id, e.Key); err != nil {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?)
				ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value`, id, e.Key, e.Describe); err != nil {
				return fmt.Errorf("tag %q: %w", e.Key, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("record evaluations of run %d: %w", id, err)
	}
	return step, nil
}

// afterRunStep checks that run id exists and returns the step where figures
// and pictures added after the run go: step itself, or for step < 0 the run's
// last recorded step outside evaluation (0 if it has none).
func afterRunStep(tx *sql.Tx, id, step int64) (int64, error) {
	if err := runExists(tx, id); err != nil {
		return 0, err
	}
	if step >= 0 {
		return step, nil
	}
	var last sql.NullInt64
	err := tx.QueryRow(`SELECT max(step) FROM latest_metrics WHERE run_id = ? AND key NOT LIKE 'eval/%'`, id).Scan(&last)
	return last.Int64, err
}
