package tracker

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits that keep a filter well inside SQLite's own (expression depth
// 1000, 32766 placeholders) whatever the input.
const (
	maxDepth      = 64   // nested parentheses and NOTs
	maxConditions = 256  // comparisons in one filter
	maxListItems  = 1000 // values in one IN (...)
)

// FilterError is a syntax or meaning error in a filter, order-by or field
// expression, located at a 1-based column (counted in characters).
type FilterError struct {
	What   string // "filter", "order by" or "field"
	Expr   string // the expression as given
	Column int
	Msg    string
}

// Error reads like "filter: unexpected ')' at column 17".
func (e *FilterError) Error() string {
	return fmt.Sprintf("%s: %s at column %d", e.What, e.Msg, e.Column)
}

// Caret returns the expression (clipped to about 70 characters around the
// error) and a line with a caret under the error's column, for a CLI to
// print under the message:
//
//	params.beta = 4 AND )
//	                    ^
func (e *FilterError) Caret() string {
	rs := []rune(e.Expr)
	for i, r := range rs {
		if r == '\n' || r == '\t' || r == '\r' {
			rs[i] = ' '
		}
	}
	col := min(max(e.Column-1, 0), len(rs))
	lo, hi := 0, len(rs)
	const half = 35
	prefix, suffix := "", ""
	if col > half {
		lo, prefix = col-half, "…"
	}
	if hi-lo > 2*half {
		hi, suffix = lo+2*half, "…"
	}
	line := prefix + string(rs[lo:hi]) + suffix
	caret := strings.Repeat(" ", len([]rune(prefix))+col-lo) + "^"
	return line + "\n" + caret
}

// node is a parsed filter expression.
type node interface{}

type andNode struct{ kids []node }
type orNode struct{ kids []node }
type notNode struct{ kid node }

// cmpNode is one comparison: field op literal(s).
type cmpNode struct {
	f    field
	op   string // = < <= > >= in like
	neg  bool   // != , NOT IN, NOT LIKE
	lits []literal
}

type litKind int

const (
	litNum litKind = iota
	litStr
	litBool
)

// literal is a value written in a filter.
type literal struct {
	kind litKind
	num  float64 // litNum, and litStr when numeric is set
	str  string  // litStr: the value; litNum: the spelling; litBool: "true"/"false"
	// numeric is set for a quoted string that reads as a number ('4'), as
	// MLflow users write params.
	numeric bool
	col     int
}

func parseNumber(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	return v, true
}

// parser is a recursive-descent parser over the token slice.
type parser struct {
	lx    *lexer
	toks  []token
	i     int
	depth int
	conds int
}

func newParser(what, expr string) (*parser, error) {
	lx := &lexer{src: []rune(expr), what: what, expr: expr}
	toks, err := lx.tokens()
	if err != nil {
		return nil, err
	}
	return &parser{lx: lx, toks: toks}, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) advance() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(col int, format string, args ...any) *FilterError {
	return p.lx.errAt(col, format, args...)
}

func (p *parser) unexpected(t token, want string) *FilterError {
	if want == "" {
		return p.errAt(t.col, "unexpected %s", t.describe())
	}
	return p.errAt(t.col, "unexpected %s, expected %s", t.describe(), want)
}

// keyword reports whether t is the bare word kw (case-insensitive).
func keyword(t token, kw string) bool {
	return t.kind == tIdent && !t.quoted && t.dot < 0 && strings.EqualFold(t.text, kw)
}

func isReserved(t token) bool {
	for _, kw := range []string{"and", "or", "not", "in", "like", "ilike", "asc", "desc"} {
		if keyword(t, kw) {
			return true
		}
	}
	return false
}

// filter = or EOF
func (p *parser) filter() (node, error) {
	if p.peek().kind == tEOF {
		return nil, nil
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t, "AND, OR or the end of the filter")
	}
	return n, nil
}

// or = and { OR and }
func (p *parser) or() (node, error) {
	n, err := p.and()
	if err != nil {
		return nil, err
	}
	kids := []node{n}
	for keyword(p.peek(), "or") {
		p.advance()
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &orNode{kids}, nil
}

// and = not { AND not }
func (p *parser) and() (node, error) {
	n, err := p.not()
	if err != nil {
		return nil, err
	}
	kids := []node{n}
	for keyword(p.peek(), "and") {
		p.advance()
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return &andNode{kids}, nil
}

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt(t.col, "nesting deeper than %d levels", maxDepth)
	}
	return nil
}

// not = NOT not | '(' or ')' | comparison
func (p *parser) not() (node, error) {
	t := p.peek()
	switch {
	case keyword(t, "not"):
		p.advance()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		n, err := p.not()
		p.depth--
		if err != nil {
			return nil, err
		}
		return &notNode{n}, nil
	case t.kind == tLParen:
		p.advance()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		n, err := p.or()
		p.depth--
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tRParen {
			if c.kind == tEOF {
				return nil, p.errAt(c.col, "missing ')' to close the '(' of column %d", t.col)
			}
			return nil, p.unexpected(c, "')', AND or OR")
		}
		p.advance()
		return n, nil
	}
	return p.comparison()
}

// comparison = field ( op literal | [NOT] IN '(' literal {, literal} ')' | [NOT] LIKE string )
func (p *parser) comparison() (node, error) {
	start := p.peek()
	f, err := p.field()
	if err != nil {
		return nil, err
	}
	p.conds++
	if p.conds > maxConditions {
		return nil, p.errAt(start.col, "more than %d conditions in one filter", maxConditions)
	}
	c := &cmpNode{f: f}
	t := p.advance()
	if keyword(t, "not") {
		c.neg = true
		t = p.advance()
		if !keyword(t, "in") && !keyword(t, "like") && !keyword(t, "ilike") {
			return nil, p.unexpected(t, "IN or LIKE after NOT")
		}
	}
	switch {
	case t.kind == tOp:
		c.op = t.text
		if c.op == "!=" {
			c.op, c.neg = "=", true
		}
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		c.lits = []literal{lit}
	case keyword(t, "in"):
		c.op = "in"
		open := p.advance()
		if open.kind != tLParen {
			return nil, p.unexpected(open, "'(' after IN")
		}
		for {
			lit, err := p.literal()
			if err != nil {
				return nil, err
			}
			c.lits = append(c.lits, lit)
			if len(c.lits) > maxListItems {
				return nil, p.errAt(lit.col, "more than %d values in IN (...)", maxListItems)
			}
			sep := p.advance()
			if sep.kind == tRParen {
				break
			}
			if sep.kind != tComma {
				if sep.kind == tEOF {
					return nil, p.errAt(sep.col, "missing ')' to close the IN list of column %d", open.col)
				}
				return nil, p.unexpected(sep, "',' or ')'")
			}
		}
	case keyword(t, "like") || keyword(t, "ilike"):
		c.op = "like"
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		if lit.kind != litStr {
			return nil, p.errAt(lit.col, "LIKE needs a quoted pattern such as 'adam%%'")
		}
		c.lits = []literal{lit}
	default:
		return nil, p.unexpected(t, "a comparison (= != < <= > >= IN LIKE) after "+f.String())
	}
	if err := checkComparison(c, p.lx); err != nil {
		return nil, err
	}
	return c, nil
}

// literal = number | string | true | false
func (p *parser) literal() (literal, error) {
	t := p.advance()
	switch {
	case t.kind == tNumber:
		return literal{kind: litNum, num: t.num, str: t.text, col: t.col}, nil
	case t.kind == tString:
		l := literal{kind: litStr, str: t.text, col: t.col}
		if v, ok := parseNumber(strings.TrimSpace(t.text)); ok && strings.TrimSpace(t.text) != "" {
			l.num, l.numeric = v, true
		}
		return l, nil
	case keyword(t, "true") || keyword(t, "false"):
		return literal{kind: litBool, str: strings.ToLower(t.text), col: t.col}, nil
	case t.kind == tIdent && !isReserved(t):
		return literal{}, p.errAt(t.col, "expected a value, found %s (quote text values: '%s')", t.describe(), clip(t.text, 40))
	}
	return literal{}, p.unexpected(t, "a value (a number, 'text', true or false)")
}

// field = word | min|max|last '(' word ')'
func (p *parser) field() (field, error) {
	t := p.advance()
	if t.kind != tIdent || isReserved(t) {
		if t.kind == tEOF {
			return field{}, p.errAt(t.col, "expected a field such as params.beta, metrics.test/nelbo or status, found end of input")
		}
		return field{}, p.unexpected(t, "a field such as params.beta, metrics.test/nelbo or status")
	}
	if t.dot < 0 && !t.quoted && p.peek().kind == tLParen {
		agg := strings.ToLower(t.text)
		if agg != "min" && agg != "max" && agg != "last" {
			return field{}, p.errAt(t.col, "unknown function %s (use min(), max() or last() around a metric)", clip(t.text, 40))
		}
		p.advance()
		inner := p.advance()
		if inner.kind != tIdent {
			return field{}, p.unexpected(inner, "a metric such as metrics.test/nelbo inside "+agg+"()")
		}
		f, err := resolveField(inner, p.lx)
		if err != nil {
			return field{}, err
		}
		if f.ns != nsMetric {
			return field{}, p.errAt(t.col, "%s() applies to metrics only, not %s", agg, f.String())
		}
		f.agg = agg
		if c := p.advance(); c.kind != tRParen {
			return field{}, p.unexpected(c, "')' to close "+agg+"(")
		}
		return f, nil
	}
	return resolveField(t, p.lx)
}
