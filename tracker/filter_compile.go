package tracker

import (
	"strings"
)

// The filter compiler: a parsed filter (filter_parse.go) and an order-by
// list become an SQL condition and ORDER BY terms with ? placeholders.

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
