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

// Filter is a parsed filter expression, compiled to an SQL condition over
// the runs of a database. The grammar and semantics are in SCHEMA.md
// ("Filter language"). The SQL text holds only names and keywords written
// by this package; every value the user wrote is a bound argument.
type Filter struct {
	expr  string
	where string
	args  []any
}

// ParseFilter parses and compiles a filter such as
//
//	params.beta >= 4 AND (metrics.test/nelbo < 90 OR tags.note LIKE 'keep%')
//
// An empty (or all-blank) expression matches every run. Errors are
// *FilterError values naming the column, e.g.
// "filter: unexpected ')' at column 17"; their Caret method draws it.
func ParseFilter(expr string) (*Filter, error) {
	p, err := newParser("filter", expr)
	if err != nil {
		return nil, err
	}
	root, err := p.filter()
	if err != nil {
		return nil, err
	}
	f := &Filter{expr: expr, where: "1"}
	if root != nil {
		var c compiler
		c.node(root)
		f.where, f.args = c.b.String(), c.args
	}
	return f, nil
}

// String returns the expression the filter was parsed from.
func (f *Filter) String() string { return f.expr }

// SQL returns the compiled condition, an SQL boolean expression over
// `runs AS r JOIN experiments AS e ON e.id = r.experiment_id`, and the
// arguments for its ? placeholders, in order. The condition is never
// NULL: a run lacking a param, metric or tag fails a comparison on it.
func (f *Filter) SQL() (where string, args []any) {
	return f.where, append([]any(nil), f.args...)
}

// compiler writes SQL text and collects the placeholder arguments.
type compiler struct {
	b    strings.Builder
	args []any
}

func (c *compiler) w(s string) { c.b.WriteString(s) }

func (c *compiler) arg(v any) {
	c.b.WriteByte('?')
	c.args = append(c.args, v)
}

func (c *compiler) list(vs []any) {
	c.w("(")
	for i, v := range vs {
		if i > 0 {
			c.w(", ")
		}
		c.arg(v)
	}
	c.w(")")
}

func (c *compiler) node(n node) {
	switch n := n.(type) {
	case *andNode:
		c.join(n.kids, " AND ")
	case *orNode:
		c.join(n.kids, " OR ")
	case *notNode:
		c.w("NOT (")
		c.node(n.kid)
		c.w(")")
	case *cmpNode:
		c.cmp(n)
	}
}

func (c *compiler) join(kids []node, op string) {
	for i, k := range kids {
		if i > 0 {
			c.w(op)
		}
		c.w("(")
		c.node(k)
		c.w(")")
	}
}

// childTable is where a namespace's values live, with their value column.
func childTable(f field) (table, valueCol string) {
	switch f.ns {
	case nsParam:
		return "params", "" // value column chosen per literal
	case nsTag:
		return "tags", "value"
	}
	switch f.agg {
	case "min":
		return "latest_metrics", "min_value"
	case "max":
		return "latest_metrics", "max_value"
	}
	return "latest_metrics", "value"
}

// cmp compiles one comparison. A comparison on a value the run lacks is
// false, and so are its negated forms (!=, NOT IN, NOT LIKE): they mean
// "has the value, and it is not ...". Only NOT (...) turns a missing value
// into true.
func (c *compiler) cmp(n *cmpNode) {
	f := n.f
	if f.ns == nsAttr {
		col := f.attr.col
		switch {
		case f.attr.nullable && n.neg:
			c.w("(" + col + " IS NOT NULL AND NOT (")
			c.pred(col, n)
			c.w("))")
		case f.attr.nullable:
			c.w("coalesce(")
			c.pred(col, n)
			c.w(", 0)")
		case n.neg:
			c.w("NOT (")
			c.pred(col, n)
			c.w(")")
		default:
			c.pred(col, n)
		}
		return
	}
	table, col := childTable(f)
	c.w("r.id IN (SELECT run_id FROM " + table + " WHERE ")
	c.keyPred("key", f)
	if n.neg {
		c.w(" AND NOT coalesce(")
	} else {
		c.w(" AND (")
	}
	if f.ns == nsParam {
		c.paramPred(n)
	} else {
		c.pred(col, n)
	}
	if n.neg {
		c.w(", 0))")
	} else {
		c.w("))")
	}
}

// keyPred matches the field's key (or, for a metric, any of its spellings).
func (c *compiler) keyPred(col string, f field) {
	keys := f.keys
	if f.ns != nsMetric {
		keys = []string{f.key}
	}
	if len(keys) == 1 {
		c.w(col + " = ")
		c.arg(keys[0])
		return
	}
	vs := make([]any, len(keys))
	for i, k := range keys {
		vs[i] = k
	}
	c.w(col + " IN ")
	c.list(vs)
}

// litValue is what a checked literal binds as: a float64 for numbers, the
// text otherwise.
func litValue(l literal) any {
	if l.kind == litNum {
		return l.num
	}
	return l.str
}

// pred writes "col op ?", "col IN (?, ...)" or "col LIKE ? ESCAPE '\'".
func (c *compiler) pred(col string, n *cmpNode) {
	switch n.op {
	case "in":
		vs := make([]any, len(n.lits))
		for i, l := range n.lits {
			vs[i] = litValue(l)
		}
		c.w(col + " IN ")
		c.list(vs)
	case "like":
		c.w(col + " LIKE ")
		c.arg(n.lits[0].str)
		c.w(` ESCAPE '\'`)
	default:
		c.w(col + " " + n.op + " ")
		c.arg(litValue(n.lits[0]))
	}
}

// paramPred compares a param: numbers against value_num (so 4, 4.0 and
// '4' all equal an int or float param of 4; bools are 0/1), text against
// value_text. A quoted number also matches a string param with that exact
// text.
func (c *compiler) paramPred(n *cmpNode) {
	if n.op == "like" {
		c.w("value_text LIKE ")
		c.arg(n.lits[0].str)
		c.w(` ESCAPE '\'`)
		return
	}
	if n.op != "in" {
		l := n.lits[0]
		switch {
		case l.kind == litNum:
			c.w("value_num " + n.op + " ")
			c.arg(l.num)
		case l.kind == litStr && l.numeric:
			c.w("value_num " + n.op + " ")
			c.arg(l.num)
			c.w(" OR (value_num IS NULL AND value_text " + n.op + " ")
			c.arg(l.str)
			c.w(")")
		default:
			c.w("value_text " + n.op + " ")
			c.arg(l.str)
		}
		return
	}
	var nums, texts, numTexts []any
	for _, l := range n.lits {
		switch {
		case l.kind == litNum:
			nums = append(nums, l.num)
		case l.kind == litStr && l.numeric:
			nums = append(nums, l.num)
			numTexts = append(numTexts, l.str)
		default:
			texts = append(texts, l.str)
		}
	}
	or := ""
	if len(nums) > 0 {
		c.w("value_num IN ")
		c.list(nums)
		or = " OR "
	}
	if len(texts) > 0 {
		c.w(or + "value_text IN ")
		c.list(texts)
		or = " OR "
	}
	if len(numTexts) > 0 {
		c.w(or + "(value_num IS NULL AND value_text IN ")
		c.list(numTexts)
		c.w(")")
	}
}

// orderTerm is one key of an ORDER BY.
type orderTerm struct {
	f    field
	desc bool
}

// parseOrder parses "field [asc|desc] {, field [asc|desc]}".
func parseOrder(spec string) ([]orderTerm, error) {
	p, err := newParser("order by", spec)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, nil
	}
	var out []orderTerm
	for {
		f, err := p.field()
		if err != nil {
			return nil, err
		}
		t := orderTerm{f: f}
		switch next := p.peek(); {
		case keyword(next, "asc"):
			p.advance()
		case keyword(next, "desc"):
			t.desc = true
			p.advance()
		}
		out = append(out, t)
		sep := p.advance()
		if sep.kind == tEOF {
			return out, nil
		}
		if sep.kind != tComma {
			return nil, p.unexpected(sep, "ASC, DESC, ',' or the end")
		}
	}
}

// order writes one ORDER BY key; missing values (and NaN metrics) sort
// last in either direction.
func (c *compiler) order(t orderTerm) {
	dir := " ASC NULLS LAST"
	if t.desc {
		dir = " DESC NULLS LAST"
	}
	f := t.f
	switch f.ns {
	case nsAttr:
		c.w(f.attr.col + dir)
	case nsParam:
		// Numbers first, in numeric order, then strings by text.
		c.w("(SELECT p.value_num FROM params AS p WHERE p.run_id = r.id AND p.key = ")
		c.arg(f.key)
		c.w(")" + dir + ", (SELECT p.value_text FROM params AS p WHERE p.run_id = r.id AND p.key = ")
		c.arg(f.key)
		c.w(")" + dir)
	case nsTag:
		c.w("(SELECT t.value FROM tags AS t WHERE t.run_id = r.id AND t.key = ")
		c.arg(f.key)
		c.w(")" + dir)
	case nsMetric:
		_, col := childTable(f)
		c.w("(SELECT lm." + col + " FROM latest_metrics AS lm WHERE lm.run_id = r.id AND ")
		c.keyPred("lm.key", f)
		if len(f.keys) > 1 {
			c.w(" ORDER BY lm.key = ")
			c.arg(f.keys[0])
			c.w(" DESC LIMIT 1")
		}
		c.w(")" + dir)
	}
}

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
