package tracker

import (
	"fmt"
	"strings"
	"unicode"
)

// tokKind is the kind of a filter-language token.
type tokKind int

const (
	tEOF    tokKind = iota
	tIdent          // a word or field reference: status, params.beta, metrics.`test/nelbo`
	tString         // 'text' or "text"; text holds the value without quotes
	tNumber         // 42, -1.5, 1e-3; text holds the spelling
	tOp             // = != < <= > >= (== and <> normalized to = and !=)
	tLParen
	tRParen
	tComma
)

// token is one lexeme. Columns count runes, from 1.
type token struct {
	kind tokKind
	text string
	col  int
	// For tIdent: quoted is true when the key after the namespace was
	// written in quotes (taken literally, no aliasing); dot is the index in
	// text of the namespace's dot, -1 if the word has none.
	quoted bool
	dot    int
	num    float64
}

// describe names a token for error messages: "')'", "string 'x'", "end of filter".
func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string " + clip(quoteSQL(t.text), 40)
	case tNumber:
		return "number " + t.text
	case tIdent:
		return fmt.Sprintf("%q", clip(t.text, 40))
	}
	return "'" + t.text + "'"
}

// quoteSQL shows s the way it would be written in a filter.
func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// clip shortens s for a message.
func clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// lexer splits a filter or order-by expression into tokens.
type lexer struct {
	src  []rune
	pos  int
	what string // "filter", "order by", "field": the prefix of errors
	expr string
}

func (lx *lexer) errAt(col int, format string, args ...any) *FilterError {
	return &FilterError{What: lx.what, Expr: lx.expr, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }

// isIdentRune is a rune allowed inside a bare word: metric keys such as
// test/nelbo and param keys such as train.lr need no quotes.
func isIdentRune(r rune) bool {
	return r == '_' || r == '.' || r == '/' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isQuote(r rune) bool { return r == '\'' || r == '"' || r == '`' }

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// tokens lexes the whole input.
func (lx *lexer) tokens() ([]token, error) {
	var out []token
	for {
		t, err := lx.next()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		if t.kind == tEOF {
			return out, nil
		}
	}
}

func (lx *lexer) next() (token, error) {
	for lx.pos < len(lx.src) && unicode.IsSpace(lx.src[lx.pos]) {
		lx.pos++
	}
	start := lx.pos
	col := start + 1
	if start >= len(lx.src) {
		return token{kind: tEOF, col: col}, nil
	}
	r := lx.src[start]
	peek := func(i int) rune {
		if start+i < len(lx.src) {
			return lx.src[start+i]
		}
		return 0
	}
	switch {
	case r == '(':
		lx.pos++
		return token{kind: tLParen, text: "(", col: col}, nil
	case r == ')':
		lx.pos++
		return token{kind: tRParen, text: ")", col: col}, nil
	case r == ',':
		lx.pos++
		return token{kind: tComma, text: ",", col: col}, nil
	case r == '=':
		lx.pos++
		if peek(1) == '=' {
			lx.pos++
		}
		return token{kind: tOp, text: "=", col: col}, nil
	case r == '!':
		if peek(1) == '=' {
			lx.pos += 2
			return token{kind: tOp, text: "!=", col: col}, nil
		}
		return token{}, lx.errAt(col, "unexpected '!' (did you mean '!=' or NOT?)")
	case r == '<':
		lx.pos++
		switch peek(1) {
		case '=':
			lx.pos++
			return token{kind: tOp, text: "<=", col: col}, nil
		case '>':
			lx.pos++
			return token{kind: tOp, text: "!=", col: col}, nil
		}
		return token{kind: tOp, text: "<", col: col}, nil
	case r == '>':
		lx.pos++
		if peek(1) == '=' {
			lx.pos++
			return token{kind: tOp, text: ">=", col: col}, nil
		}
		return token{kind: tOp, text: ">", col: col}, nil
	case r == '\'' || r == '"':
		s, err := lx.quoted(r)
		if err != nil {
			return token{}, err
		}
		return token{kind: tString, text: s, col: col}, nil
	case r == '`':
		return token{}, lx.errAt(col, "backquotes go around a key after its namespace, as in metrics.`test/nelbo`")
	case isDigit(r) || ((r == '-' || r == '+' || r == '.') && (isDigit(peek(1)) || peek(1) == '.' && isDigit(peek(2)))):
		return lx.number()
	case isIdentStart(r):
		return lx.ident()
	}
	return token{}, lx.errAt(col, "unexpected %s", quoteRune(r))
}

// quoteRune shows a rune in an error message, escaping invisible ones.
func quoteRune(r rune) string {
	if unicode.IsPrint(r) && r != '\'' {
		return "'" + string(r) + "'"
	}
	return fmt.Sprintf("%q", r)
}

// quoted reads a string or key between q quotes; a doubled quote stands for
// one quote. Backslashes are ordinary characters (LIKE uses \ to escape %
// and _).
func (lx *lexer) quoted(q rune) (string, error) {
	start := lx.pos
	var b strings.Builder
	for i := start + 1; i < len(lx.src); i++ {
		if lx.src[i] != q {
			b.WriteRune(lx.src[i])
			continue
		}
		if i+1 < len(lx.src) && lx.src[i+1] == q {
			b.WriteRune(q)
			i++
			continue
		}
		lx.pos = i + 1
		return b.String(), nil
	}
	return "", lx.errAt(start+1, "unterminated %s (close it with %c; write %c%c for a literal %c)", quoteName(q), q, q, q, q)
}

func quoteName(q rune) string {
	switch q {
	case '`':
		return "backquoted key"
	case '"':
		return `"string"`
	}
	return "'string'"
}

// number reads [+-] digits [. digits] [e [+-] digits].
func (lx *lexer) number() (token, error) {
	start := lx.pos
	i := start
	if lx.src[i] == '-' || lx.src[i] == '+' {
		i++
	}
	digits := func() {
		for i < len(lx.src) && isDigit(lx.src[i]) {
			i++
		}
	}
	digits()
	if i < len(lx.src) && lx.src[i] == '.' {
		i++
		digits()
	}
	if i < len(lx.src) && (lx.src[i] == 'e' || lx.src[i] == 'E') {
		j := i + 1
		if j < len(lx.src) && (lx.src[j] == '+' || lx.src[j] == '-') {
			j++
		}
		if j < len(lx.src) && isDigit(lx.src[j]) {
			i = j
			digits()
		}
	}
	if i < len(lx.src) && (isIdentRune(lx.src[i])) {
		for i < len(lx.src) && isIdentRune(lx.src[i]) {
			i++
		}
		return token{}, lx.errAt(start+1, "malformed number %q (quote text: '%s')", clip(string(lx.src[start:i]), 40), clip(string(lx.src[start:i]), 40))
	}
	lx.pos = i
	text := string(lx.src[start:i])
	v, ok := parseNumber(text)
	if !ok {
		return token{}, lx.errAt(start+1, "number %s is out of range", clip(text, 40))
	}
	return token{kind: tNumber, text: text, col: start + 1, num: v}, nil
}

// ident reads a bare word; after its first '.', the rest may instead be a
// quoted key (params.`my key`, tags."run group").
func (lx *lexer) ident() (token, error) {
	start := lx.pos
	i := start
	dot := -1
	var b strings.Builder
	for i < len(lx.src) && isIdentRune(lx.src[i]) {
		if lx.src[i] == '.' && dot < 0 {
			dot = b.Len()
		}
		b.WriteRune(lx.src[i])
		i++
	}
	t := token{kind: tIdent, col: start + 1, dot: dot}
	if i < len(lx.src) && isQuote(lx.src[i]) && i > start && lx.src[i-1] == '.' && dot == b.Len()-1 {
		lx.pos = i
		key, err := lx.quoted(lx.src[i])
		if err != nil {
			return token{}, err
		}
		b.WriteString(key)
		t.quoted = true
		i = lx.pos
	}
	lx.pos = i
	t.text = b.String()
	return t, nil
}
