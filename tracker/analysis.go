package tracker

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Comparison sets runs side by side: one CompareRow per param, final
// metric and tag key present in any of them, sorted by key.
type Comparison struct {
	Runs    []RunRow // in the order the ids were given
	Params  []CompareRow
	Metrics []CompareRow // last values (float64)
	Tags    []CompareRow
}

// CompareRow is one key across the compared runs. Values[i] belongs to
// Runs[i] and is nil where that run lacks the key. Differs is true unless
// every run has the key with the same value (numbers compare by value, so
// an int 4 equals a float 4.0; NaN equals NaN).
type CompareRow struct {
	Key     string
	Values  []any
	Differs bool
}

// Compare loads the given runs (duplicates dropped) and lines up their
// params, final metrics and tags.
func (db *DB) Compare(ids ...int64) (Comparison, error) {
	if len(ids) == 0 {
		return Comparison{}, errors.New("compare runs: no run ids given")
	}
	seen := map[int64]bool{}
	var uniq []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	rows, err := db.Runs().IDsIn(uniq...).All()
	if err != nil {
		return Comparison{}, fmt.Errorf("compare runs: %w", err)
	}
	byID := map[int64]RunRow{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	cmp := Comparison{Runs: make([]RunRow, len(uniq))}
	for i, id := range uniq {
		r, ok := byID[id]
		if !ok {
			return Comparison{}, fmt.Errorf("compare runs: %w", runNotFound(id))
		}
		cmp.Runs[i] = r
	}
	cmp.Params = lineUp(cmp.Runs, func(r RunRow) map[string]any { return r.Params })
	cmp.Metrics = lineUp(cmp.Runs, func(r RunRow) map[string]any {
		m := make(map[string]any, len(r.Metrics))
		for k, v := range r.Metrics {
			m[k] = v.Value
		}
		return m
	})
	cmp.Tags = lineUp(cmp.Runs, func(r RunRow) map[string]any {
		m := make(map[string]any, len(r.Tags))
		for k, v := range r.Tags {
			m[k] = v
		}
		return m
	})
	return cmp, nil
}

func lineUp(runs []RunRow, get func(RunRow) map[string]any) []CompareRow {
	maps := make([]map[string]any, len(runs))
	keys := map[string]bool{}
	for i, r := range runs {
		maps[i] = get(r)
		for k := range maps[i] {
			keys[k] = true
		}
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	out := make([]CompareRow, len(sorted))
	for j, k := range sorted {
		row := CompareRow{Key: k, Values: make([]any, len(runs))}
		for i, m := range maps {
			v, ok := m[k]
			if ok {
				row.Values[i] = v
			}
			if !ok || (i > 0 && !sameValue(row.Values[0], v)) {
				row.Differs = true
			}
		}
		out[j] = row
	}
	return out
}

// sameValue compares two param/metric/tag values, numbers by value.
func sameValue(a, b any) bool {
	fa, aNum := asFloat(a)
	fb, bNum := asFloat(b)
	if aNum && bNum {
		return fa == fb || (math.IsNaN(fa) && math.IsNaN(fb))
	}
	if aNum != bNum {
		return false
	}
	return a == b
}

// asFloat reads int64 and float64 values (the numeric types RunRow holds).
func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	}
	return 0, false
}

// GroupStat summarizes a metric over the runs sharing one value of a field
// (typically the seeds of one setting).
type GroupStat struct {
	// Value is the shared value of the `by` field: int64, float64, string,
	// bool or time.Time, nil for the runs that lack it. Label is Value as
	// text ("" for nil).
	Value any
	Label string
	// Count is how many runs of the group have a metric value; Missing how
	// many lack it (or logged NaN). Both kinds are in RunIDs.
	Count, Missing int
	// Mean, Std, Min and Max are over the Count values. Std is the sample
	// standard deviation (n−1 denominator), NaN when Count < 2; all four
	// are NaN when Count is 0.
	Mean, Std, Min, Max float64
	RunIDs              []int64
}

// Group groups the runs matching filter by the value of the field by (e.g.
// "params.beta") and summarizes the numeric field metric (e.g.
// "metrics.test/nelbo") in each group. See Query.Group.
func (db *DB) Group(filter, by, metric string) ([]GroupStat, error) {
	return db.Runs().Where(filter).Group(by, metric)
}

// Group groups the query's runs by the value of the field by and
// summarizes the numeric field metric per group with gonum's stat.Mean and
// stat.StdDev. Numbers group by value (an int 4 and a float 4.0 share a
// group) and sort numerically; other values sort as text, false before
// true, times by time; the group of runs lacking `by` comes last.
func (q *Query) Group(by, metric string) ([]GroupStat, error) {
	if q.err != nil {
		return nil, q.err
	}
	byF, err := ParseField(by)
	if err != nil {
		return nil, err
	}
	mF, err := numericField(metric)
	if err != nil {
		return nil, err
	}
	rows, err := q.Fields(byF, mF).All()
	if err != nil {
		return nil, err
	}
	type acc struct {
		groupAcc
		key groupKey
	}
	groups := map[groupKey]*acc{}
	for _, r := range rows {
		bv, ok := byF.Value(r)
		if !ok {
			bv = nil
		}
		k := keyOf(bv)
		a := groups[k]
		if a == nil {
			a = &acc{key: k, groupAcc: groupAcc{stat: GroupStat{Value: bv, Label: formatValue(bv)}}}
			groups[k] = a
		}
		a.add(r, mF)
	}
	out := make([]GroupStat, 0, len(groups))
	keys := make([]groupKey, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	for _, k := range keys {
		a := groups[k]
		out = append(out, a.summary())
	}
	return out, nil
}

// groupAcc collects one group's runs and metric values.
type groupAcc struct {
	stat GroupStat
	vals []float64
}

// add counts run r in the group, with its value of metric (or as missing).
func (a *groupAcc) add(r RunRow, metric Field) {
	a.stat.RunIDs = append(a.stat.RunIDs, r.ID)
	mv, ok := metric.Value(r)
	f, isNum := asFloat(mv)
	if !ok || !isNum || math.IsNaN(f) {
		a.stat.Missing++
		return
	}
	a.vals = append(a.vals, f)
}

// summary is the group with Count, Mean, Std, Min and Max filled in.
func (a *groupAcc) summary() GroupStat {
	s := a.stat
	s.Count = len(a.vals)
	s.Mean, s.Std, s.Min, s.Max = Summarize(a.vals)
	return s
}

// Summarize returns the mean, sample standard deviation (n−1; NaN for
// fewer than two values), minimum and maximum of vals (all NaN for none),
// with gonum's stat package: the statistics Group reports, for callers
// summarizing values of their own (a sweep's configurations over seeds).
func Summarize(vals []float64) (mean, std, lo, hi float64) {
	mean, std, lo, hi = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if len(vals) > 0 {
		mean = stat.Mean(vals, nil)
		lo, hi = vals[0], vals[0]
		for _, v := range vals {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if len(vals) > 1 {
		std = stat.StdDev(vals, nil)
	}
	return mean, std, lo, hi
}

// numericField parses the metric a group summarizes, which must be a number.
func numericField(metric string) (Field, error) {
	mF, err := ParseField(metric)
	if err != nil {
		return mF, err
	}
	if ns := mF.f.ns; ns == nsTag || (ns == nsAttr && mF.f.attr.kind != aInt) {
		return mF, fmt.Errorf("group: metric %s is not numeric (use a metric, a numeric param, id or seed)", mF)
	}
	return mF, nil
}

// groupKey is a comparable, sortable form of a group's value.
type groupKey struct {
	rank int // 0 numbers and times, 1 bools, 2 text, 3 missing
	num  float64
	text string
}

func keyOf(v any) groupKey {
	switch x := v.(type) {
	case nil:
		return groupKey{rank: 3}
	case int64:
		return groupKey{num: float64(x)}
	case float64:
		if math.IsNaN(x) {
			return groupKey{rank: 2, text: "NaN"}
		}
		return groupKey{num: x}
	case time.Time:
		return groupKey{num: toUnix(x)}
	case bool:
		if x {
			return groupKey{rank: 1, num: 1}
		}
		return groupKey{rank: 1}
	}
	return groupKey{rank: 2, text: fmt.Sprint(v)}
}

func (a groupKey) less(b groupKey) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	if a.num != b.num {
		return a.num < b.num
	}
	return a.text < b.text
}

// formatValue writes a field value as Export's CSV does: numbers in the
// shortest exact form, times in RFC 3339 (UTC), nil as "".
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		if x.IsZero() {
			return ""
		}
		return x.UTC().Format(time.RFC3339Nano)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// Export writes the runs matching filter to w as "csv" or "json" with
// DefaultColumns. See Query.Export.
func (db *DB) Export(filter string, w io.Writer, format string) error {
	return db.Runs().Where(filter).Export(w, format)
}

// Export writes the query's runs to w, one record per run with the given
// columns (DefaultColumns of the rows when none are given).
//
// "csv": a header of the columns' names (Field.String), then one line per
// run; a missing value is an empty cell, NaN is "NaN", infinities "+Inf"
// and "-Inf", times RFC 3339 UTC.
//
// "json": an array of flat objects keyed by column name, in column order;
// a missing value or NaN is null, infinities are the strings "+Inf" and
// "-Inf", times RFC 3339 strings. pandas reads both with read_csv/read_json.
func (q *Query) Export(w io.Writer, format string, columns ...Field) error {
	if format != "csv" && format != "json" {
		return fmt.Errorf("export: unknown format %q (use csv or json)", format)
	}
	if len(columns) > 0 {
		q = q.Fields(columns...)
	}
	rows, err := q.All()
	if err != nil {
		return err
	}
	if len(columns) == 0 {
		columns = DefaultColumns(rows)
	}
	if format == "csv" {
		return writeCSV(w, rows, columns)
	}
	return writeJSON(w, rows, columns)
}

func writeCSV(w io.Writer, rows []RunRow, cols []Field) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.String()
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("export csv: %w", err)
	}
	for _, r := range rows {
		for i, c := range cols {
			v, ok := c.Value(r)
			if !ok {
				v = nil
			}
			rec[i] = formatValue(v)
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("export csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export csv: %w", err)
	}
	return nil
}

func writeJSON(w io.Writer, rows []RunRow, cols []Field) error {
	bw := bufio.NewWriter(w)
	names := make([][]byte, len(cols))
	for i, c := range cols {
		names[i], _ = json.Marshal(c.String())
	}
	bw.WriteString("[")
	for ri, r := range rows {
		if ri > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n  {")
		for i, c := range cols {
			if i > 0 {
				bw.WriteString(", ")
			}
			bw.Write(names[i])
			bw.WriteString(": ")
			v, ok := c.Value(r)
			if !ok {
				v = nil
			}
			b, err := json.Marshal(jsonValue(v))
			if err != nil {
				return fmt.Errorf("export json: run %d column %s: %w", r.ID, c, err)
			}
			bw.Write(b)
		}
		bw.WriteString("}")
	}
	if len(rows) > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export json: %w", err)
	}
	return nil
}

// jsonValue maps the values JSON cannot hold: NaN to null, infinities to
// "+Inf"/"-Inf", times to RFC 3339 text.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		switch {
		case math.IsNaN(x):
			return nil
		case math.IsInf(x, 0):
			return formatValue(x)
		}
	case time.Time:
		if x.IsZero() {
			return nil
		}
		return formatValue(x)
	}
	return v
}

// SetTag sets (or replaces) a tag of any run, as `vaexp runs tag` does.
func (db *DB) SetTag(id int64, key, value string) error {
	if key == "" {
		return fmt.Errorf("set tag of run %d: empty key (write key=value)", id)
	}
	err := db.write(func(tx *sql.Tx) error {
		if err := runExists(tx, id); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO tags(run_id, key, value) VALUES (?, ?, ?)
			ON CONFLICT(run_id, key) DO UPDATE SET value = excluded.value`, id, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("set tag %q of run %d: %w", key, id, err)
	}
	return nil
}

// DeleteTag removes a tag from a run; removing a tag it lacks is not an
// error.
func (db *DB) DeleteTag(id int64, key string) error {
	err := db.write(func(tx *sql.Tx) error {
		if err := runExists(tx, id); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM tags WHERE run_id = ? AND key = ?`, id, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete tag %q of run %d: %w", key, id, err)
	}
	return nil
}

func runExists(tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRow(`SELECT 1 FROM runs WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return runNotFound(id)
	}
	return err
}

// ErrRunning is wrapped by DeleteRun's error for a run still marked
// running.
var ErrRunning = errors.New("run is still running")

// DeleteRun deletes a run with its params, metrics, metric summaries, tags
// and artifacts in one transaction: all of it or nothing. A run still
// marked running is refused (its process would keep writing); MarkStale
// first turns dead ones into killed. Files in the run's RunDir are the
// caller's to remove.
func (db *DB) DeleteRun(id int64) error {
	err := db.write(func(tx *sql.Tx) error {
		var status, host string
		var pid int
		err := tx.QueryRow(`SELECT status, host, pid FROM runs WHERE id = ?`, id).Scan(&status, &host, &pid)
		if errors.Is(err, sql.ErrNoRows) {
			return runNotFound(id)
		}
		if err != nil {
			return err
		}
		if status == StatusRunning {
			return fmt.Errorf("%w (pid %d on %s); stop it first, or mark it failed/killed if its process is gone", ErrRunning, pid, orNone(host))
		}
		// The foreign keys cascade too; deleting explicitly keeps the
		// transaction complete even on a connection without them.
		for _, table := range []string{"metrics", "latest_metrics", "params", "tags", "artifacts"} {
			if _, err := tx.Exec(`DELETE FROM `+table+` WHERE run_id = ?`, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(`DELETE FROM runs WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete run %d: %w", id, err)
	}
	return nil
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "an unknown host"
	}
	return s
}
