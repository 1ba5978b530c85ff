package tracker

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The query builder: Runs().Where(...).OrderBy(...).Limit(...) assembles
// one statement from compiled filters (filter_compile.go) and loads plain
// Go values.

// RunRow is one run with its parameters (int64, float64, string or bool
// values), the summary of each metric (last value, min, max) and its tags.
type RunRow struct {
	Run
	Params  map[string]any
	Metrics map[string]LatestMetric
	Tags    map[string]string
}

// Query selects runs: a filter, an order and a page. Methods return a new
// Query, so a base query can be refined several ways. Errors in Where or
// OrderBy surface from the method that runs the query.
//
//	rows, err := db.Runs().Where("params.beta >= 4 AND status = 'finished'").
//		OrderBy("metrics.test/nelbo asc").Limit(10).All()
type Query struct {
	db      *DB
	filters []*Filter
	order   []orderTerm
	limit   int
	offset  int
	ids     []int64
	fields  []field // nil: All loads every key
	err     error
}

// Runs starts a query over every run of db, newest first.
func (db *DB) Runs() *Query { return &Query{db: db} }

func (q *Query) clone() *Query {
	c := *q
	c.filters = append([]*Filter(nil), q.filters...)
	c.order = append([]orderTerm(nil), q.order...)
	return &c
}

// Where narrows the query to runs matching expr (see ParseFilter). Several
// Where calls are ANDed. An empty expr changes nothing.
func (q *Query) Where(expr string) *Query {
	c := q.clone()
	if c.err != nil {
		return c
	}
	f, err := ParseFilter(expr)
	if err != nil {
		c.err = err
		return c
	}
	c.filters = append(c.filters, f)
	return c
}

// Filter is Where with an already parsed filter.
func (q *Query) Filter(f *Filter) *Query {
	c := q.clone()
	if f != nil {
		c.filters = append(c.filters, f)
	}
	return c
}

// OrderBy sorts by one or more keys, each "field [asc|desc]" (ascending by
// default), given as separate arguments or comma-separated:
// OrderBy("metrics.test/nelbo asc", "params.beta desc"). Runs lacking a
// key's value sort after the others either way; ties keep newest first. It
// replaces an earlier OrderBy.
func (q *Query) OrderBy(keys ...string) *Query {
	c := q.clone()
	c.order = nil
	if c.err != nil {
		return c
	}
	for _, k := range keys {
		ts, err := parseOrder(k)
		if err != nil {
			c.err = err
			return c
		}
		c.order = append(c.order, ts...)
	}
	return c
}

// Limit returns at most n runs (n <= 0: no limit). Count ignores it.
func (q *Query) Limit(n int) *Query {
	c := q.clone()
	c.limit = max(n, 0)
	return c
}

// Offset skips the first n runs of the order (n <= 0: none).
func (q *Query) Offset(n int) *Query {
	c := q.clone()
	c.offset = max(n, 0)
	return c
}

// Fields makes All load only the params, metrics and tags the given
// fields name into each RunRow (the Run attributes are always there);
// other keys are left out of the maps. Listing many runs for a few columns
// is then much cheaper. Without Fields, All loads every key.
func (q *Query) Fields(fs ...Field) *Query {
	c := q.clone()
	c.fields = []field{}
	for _, f := range fs {
		c.fields = append(c.fields, f.f)
	}
	return c
}

// IDsIn restricts the query to the given run ids.
func (q *Query) IDsIn(ids ...int64) *Query {
	c := q.clone()
	c.ids = append([]int64{}, ids...) // non-nil even when empty: matches nothing
	return c
}

// Err returns the first error of Where or OrderBy, if any.
func (q *Query) Err() error { return q.err }

// idsJSON renders ids as a JSON array, bound as one argument and read back
// by SQLite's json_each: a list of any length without building SQL.
func idsJSON(ids []int64) string {
	b := make([]byte, 0, 8*len(ids)+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// build writes the query's SQL selecting sel; paged adds ORDER BY, LIMIT
// and OFFSET.
func (q *Query) build(sel string, paged bool) (string, []any) {
	var c compiler
	c.w("SELECT " + sel + runFrom)
	and := " WHERE "
	for _, f := range q.filters {
		if f.where == "1" {
			continue
		}
		c.w(and + "(" + f.where + ")")
		c.args = append(c.args, f.args...)
		and = " AND "
	}
	if q.ids != nil {
		c.w(and + "r.id IN (SELECT value FROM json_each(")
		c.arg(idsJSON(q.ids))
		c.w("))")
	}
	if !paged {
		return c.b.String(), c.args
	}
	c.w(" ORDER BY ")
	for _, t := range q.order {
		c.order(t)
		c.w(", ")
	}
	c.w("r.started_at DESC, r.id DESC")
	if q.limit > 0 || q.offset > 0 {
		c.w(" LIMIT ")
		if q.limit > 0 {
			c.arg(q.limit)
		} else {
			c.arg(-1)
		}
		c.w(" OFFSET ")
		c.arg(q.offset)
	}
	return c.b.String(), c.args
}

// describe names the query in errors.
func (q *Query) describe() string {
	var parts []string
	for _, f := range q.filters {
		if strings.TrimSpace(f.expr) != "" {
			parts = append(parts, f.expr)
		}
	}
	if len(parts) == 0 {
		return "runs"
	}
	return fmt.Sprintf("runs matching %q", clip(strings.Join(parts, " AND "), 200))
}

// Count returns how many runs match, ignoring Limit and Offset.
func (q *Query) Count() (int, error) {
	if q.err != nil {
		return 0, q.err
	}
	s, args := q.build("count(*)", false)
	var n int
	if err := q.db.sql.QueryRow(s, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", q.describe(), err)
	}
	return n, nil
}

// IDs returns the ids of the matching runs, in order.
func (q *Query) IDs() ([]int64, error) {
	if q.err != nil {
		return nil, q.err
	}
	s, args := q.build("r.id", true)
	rows, err := q.db.sql.Query(s, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", q.describe(), err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list %s: %w", q.describe(), err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", q.describe(), err)
	}
	return ids, nil
}

// All returns the matching runs in order, each with its params, metric
// summaries and tags, read from one consistent snapshot of the file.
func (q *Query) All() ([]RunRow, error) {
	if q.err != nil {
		return nil, q.err
	}
	var out []RunRow
	err := q.db.read(func(ctx context.Context, conn *sql.Conn) error {
		var err error
		out, err = q.load(ctx, conn)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", q.describe(), err)
	}
	return out, nil
}

func (q *Query) load(ctx context.Context, conn *sql.Conn) ([]RunRow, error) {
	s, args := q.build(runSelect, true)
	rows, err := conn.QueryContext(ctx, s, args...)
	if err != nil {
		return nil, err
	}
	var out []RunRow
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, RunRow{Run: r, Params: map[string]any{}, Metrics: map[string]LatestMetric{}, Tags: map[string]string{}})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	index := make(map[int64]int, len(out))
	ids := make([]int64, len(out))
	for i, r := range out {
		index[r.ID] = i
		ids[i] = r.ID
	}
	// Looking each run up costs about as much per run as scanning the child
	// tables whole (skipping other runs' rows in Go); scan when nearly all
	// runs are selected (measured with BenchmarkFilter10k).
	var all int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM runs`).Scan(&all); err != nil {
		return nil, err
	}
	var runIDs any
	if len(out)*10 < all*9 {
		runIDs = idsJSON(ids)
	}
	var wanted map[namespace][]string
	if q.fields != nil {
		wanted = map[namespace][]string{}
		for _, f := range q.fields {
			switch f.ns {
			case nsParam, nsTag:
				wanted[f.ns] = append(wanted[f.ns], f.key)
			case nsMetric:
				wanted[f.ns] = append(wanted[f.ns], f.keys...)
			}
		}
	}
	each := func(ns namespace, q string, scan func(rows *sql.Rows) error) error {
		var c compiler
		c.w(q)
		and := " WHERE "
		if runIDs != nil {
			c.w(and + "run_id IN (SELECT value FROM json_each(")
			c.arg(runIDs)
			c.w("))")
			and = " AND "
		}
		if wanted != nil {
			keys := wanted[ns]
			if len(keys) == 0 {
				return nil
			}
			c.w(and + "key IN (SELECT value FROM json_each(")
			b, _ := json.Marshal(keys)
			c.arg(string(b))
			c.w("))")
		}
		rows, err := conn.QueryContext(ctx, c.b.String(), c.args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err = each(nsParam, `SELECT run_id, key, type, value_text, value_num FROM params`, func(rows *sql.Rows) error {
		var id int64
		var key, typ, text string
		var num sql.NullFloat64
		if err := rows.Scan(&id, &key, &typ, &text, &num); err != nil {
			return err
		}
		i, ok := index[id]
		if !ok {
			return nil
		}
		p, err := decodeParam(key, typ, text, num)
		if err != nil {
			return err
		}
		out[i].Params[key] = p.Value
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(nsMetric, `SELECT run_id, key, step, value, min_value, max_value FROM latest_metrics`, func(rows *sql.Rows) error {
		var id int64
		var m LatestMetric
		var v, lo, hi sql.NullFloat64
		if err := rows.Scan(&id, &m.Key, &m.Step, &v, &lo, &hi); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			m.Value, m.Min, m.Max = nanIfNull(v), nanIfNull(lo), nanIfNull(hi)
			out[i].Metrics[m.Key] = m
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = each(nsTag, `SELECT run_id, key, value FROM tags`, func(rows *sql.Rows) error {
		var id int64
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return err
		}
		if i, ok := index[id]; ok {
			out[i].Tags[k] = v
		}
		return nil
	})
	return out, err
}

// read runs fn on one connection inside a deferred (read-only) transaction,
// so every query fn makes sees the same snapshot, without taking the write
// lock (database/sql's BeginTx would: the DSN makes every BEGIN IMMEDIATE).
func (db *DB) read(fn func(ctx context.Context, conn *sql.Conn) error) error {
	ctx := context.Background()
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return err
	}
	err = fn(ctx, conn)
	if _, rerr := conn.ExecContext(ctx, `ROLLBACK`); rerr != nil {
		// Never hand a connection still inside a transaction back to the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		if err == nil {
			err = rerr
		}
	}
	return err
}
