package tracker

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// sqlWords are the only words the compiler may write: SQL keywords and
// functions, and the tracker's own table, alias and column names.
var sqlWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`select from where and or not in like escape is null coalesce as join on
		order by asc desc nulls last limit offset count json_each
		runs experiments params latest_metrics tags r e p lm t
		id experiment_id name family status sweep seed started_at ended_at heartbeat_at backend command
		git_commit host run_dir error pid run_id key value value_text value_num type step min_value max_value`) {
		sqlWords[w] = true
	}
}

// checkSQLText tokenizes compiled SQL with a whitelist: compiler words,
// operators, ? placeholders, the numbers 0 and 1 and the string constants
// '\' (LIKE's escape) and the empty string (coalesce of a NULL error). Any
// user text that leaked into the SQL would be a token outside the
// whitelist. It returns the number of placeholders.
func checkSQLText(sql string) (int, error) {
	n := 0
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t':
			i++
		case c == '?':
			n++
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(sql) && (sql[j] == '_' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' || sql[j] >= '0' && sql[j] <= '9') {
				j++
			}
			if w := strings.ToLower(sql[i:j]); !sqlWords[w] {
				return 0, fmt.Errorf("word %q at byte %d is not one the compiler writes", sql[i:j], i)
			}
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(sql) && sql[j] >= '0' && sql[j] <= '9' {
				j++
			}
			if sql[i:j] != "0" && sql[i:j] != "1" {
				return 0, fmt.Errorf("number %q at byte %d", sql[i:j], i)
			}
			i = j
		case c == '\'':
			j := strings.IndexByte(sql[i+1:], '\'')
			if j < 0 {
				return 0, fmt.Errorf("unterminated string at byte %d", i)
			}
			if s := sql[i+1 : i+1+j]; s != `\` && s != "" {
				return 0, fmt.Errorf("string literal %q at byte %d", s, i)
			}
			i += j + 2
		case strings.HasPrefix(sql[i:], "<=") || strings.HasPrefix(sql[i:], ">=") || strings.HasPrefix(sql[i:], "!="):
			i += 2
		case strings.IndexByte("()=<>,.*", c) >= 0:
			i++
		default:
			return 0, fmt.Errorf("character %q at byte %d", c, i)
		}
	}
	return n, nil
}

// exercise runs expr as a filter, an order-by and a column list against
// db, checking every SQL text it produces against the whitelist and every
// error for a sane position.
func exercise(t *testing.T, db *DB, expr string) (matched int, accepted bool) {
	t.Helper()
	checkErr := func(err error) {
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Fatalf("%q: error %v is not a *FilterError", clip(expr, 80), err)
		}
		if fe.Column < 1 || fe.Column > utf8.RuneCountInString(expr)+1 {
			t.Fatalf("%q: column %d outside the input", clip(expr, 80), fe.Column)
		}
		_ = fe.Caret()
	}
	check := func(q *Query, sel string, paged bool) {
		s, args := q.build(sel, paged)
		n, err := checkSQLText(s)
		if err != nil {
			t.Fatalf("%q compiled to SQL with foreign text: %v\n%s", clip(expr, 80), err, s)
		}
		if n != len(args) {
			t.Fatalf("%q: %d placeholders, %d args\n%s", clip(expr, 80), n, len(args), s)
		}
	}
	f, err := ParseFilter(expr)
	if err != nil {
		checkErr(err)
	} else {
		accepted = true
		q := db.Runs().Filter(f)
		check(q, "count(*)", false)
		if matched, err = q.Count(); err != nil {
			t.Fatalf("%q: filter accepted but the query failed: %v", clip(expr, 80), err)
		}
		if where, args := f.SQL(); len(args) > 0 && where == "1" {
			t.Fatalf("%q: args without SQL", expr)
		}
	}
	if _, err := parseOrder(expr); err != nil {
		checkErr(err)
	} else {
		q := db.Runs().OrderBy(expr).Limit(3)
		check(q, runSelect, true)
		if _, err := q.All(); err != nil {
			t.Fatalf("%q: order accepted but the query failed: %v", clip(expr, 80), err)
		}
	}
	if fs, err := ParseFields(expr); err != nil {
		checkErr(err)
	} else {
		for _, f := range fs {
			if again, err := ParseField(f.String()); err != nil || again.String() != f.String() {
				t.Fatalf("%q: field %s does not round-trip: %v", expr, f, err)
			}
		}
	}
	return matched, accepted
}

// fuzzSeeds are valid filters, near misses and attacks.
var fuzzSeeds = []string{
	"",
	"params.beta = 4",
	"params.beta >= 4 AND (metrics.test/nelbo < 90 OR tags.note LIKE 'keep%')",
	"NOT status IN ('finished', \"failed\") OR family != 'vae'",
	"min(metrics.test_nelbo) <= 91 and params.opt not like 'ad%'",
	"metrics.`test/nelbo` < 1e2 AND tags.`odd key` = 'it''s'",
	"created > '-24h' AND ended < '2999-01-01T00:00:00Z' AND id IN (1, 2, '3')",
	"params.amsgrad = true OR params.x NOT IN (1, 'a', '2', false)",
	"metrics.test/nelbo asc, params.beta desc",
	"id, name, params.beta, max(metrics.val/nelbo)",
	"params.beta = 4 AND )",
	"(((status = 'killed')",
	"'; DROP TABLE runs; --",
	"params.x = '''; DROP TABLE runs; --'",
	`" OR 1=1 --`,
	`params.x = "" OR 1=1 --"`,
	"params.x = 'a' UNION SELECT name FROM sqlite_master",
	"params.`x') OR 1=1 --` = 1",
	"tags.q LIKE '%'' OR ''1''=''1'",
	"params.ключ = 'значение' AND tags.emoji = '🙂'",
	"params.x = 'a\x00b'",
	"params.x = '\xff\xfe'",
	"status = 'finished' /* */",
	"params.x = 1; DELETE FROM runs",
	"метрика.x = 1",
	"sweep = 'grid' AND experiment LIKE 'def%' AND seed >= 1 AND host != '' AND commit = '' AND backend = 'go'",
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	db := fixture(f)
	before := schemaDump(f, db.sql)
	f.Fuzz(func(t *testing.T, expr string) {
		exercise(t, db, expr)
		if n, err := db.Runs().Count(); err != nil || n != 6 {
			t.Fatalf("after %q: %d runs, %v", clip(expr, 80), n, err)
		}
		if len(expr) > 0 && expr[0] == 'd' { // cheap, occasional full check
			if got := schemaDump(t, db.sql); got != before {
				t.Fatalf("after %q the schema changed", clip(expr, 80))
			}
		}
	})
}

func TestHostileFilters(t *testing.T) {
	db := fixture(t)
	// Values that look like SQL are stored, and must be found exactly.
	rec, err := db.StartRun(RunInfo{Family: "'; DROP TABLE runs; --", Params: map[string]any{"x": "'; DROP TABLE runs; --", "x') OR 1=1 --": 1}})
	if err != nil {
		t.Fatal(err)
	}
	rec.SetTag("q", `" OR 1=1 --`)
	rec.SetTag("ключ", "🙂")
	rec.Finish(StatusFinished, nil)
	before := schemaDump(t, db.sql)
	total, _ := db.Runs().Count()

	long := strings.Repeat("x", 1<<20)
	in1000 := "id IN (" + strings.Repeat("1, ", 999) + "7)"
	in1001 := "id IN (" + strings.Repeat("1, ", 1000) + "7)"
	// As deep and as long as a filter may be (each NOT and each '(' is a level).
	worst := strings.Repeat("NOT (", 32) + "id = 7" + strings.Repeat(" OR params.x = 'a'", 255) + strings.Repeat(")", 32)
	for _, tc := range []struct {
		expr  string
		match int // -1: must be rejected
	}{
		{"'; DROP TABLE runs; --", -1},
		{"params.x = '''; DROP TABLE runs; --'", 1},
		{`params.x = "'; DROP TABLE runs; --"`, 1},
		{"family = '''; DROP TABLE runs; --'", 1},
		{`" OR 1=1 --`, -1},
		{`tags.q = '" OR 1=1 --'`, 1},
		{`tags.q = """ OR 1=1 --"`, 1},
		{`params.x = "" OR 1=1 --"`, -1},
		{"params.x = 'a' UNION SELECT name FROM sqlite_master", -1},
		{"params.x = 'a'; DELETE FROM runs", -1},
		{"params.x = 'a' -- comment", -1},
		{"params.x = 'a' /* comment */", -1},
		{"status = 'finished' OR 1=1", -1},
		{"params.x IN ('a', (SELECT 1))", -1},
		{"params.x = sqlite_version()", -1},
		{"params.`x') OR 1=1 --` = 1", 1},
		{"params.`x') OR 1=1 --` = 2", 0},
		{"tags.q LIKE '%'' OR ''1''=''1'", 0},
		{"tags.q LIKE '%OR 1=1%'", 1},
		{"tags.ключ = '🙂'", 1},
		{"tags.`ключ` = '🙂' AND params.x != 'x'", 1},
		{"params.x = 'a\x00b'", 0},
		{"params.x = '\xff'", 0},
		{"params.x = '" + long + "'", 0},
		{long, -1},
		{strings.Repeat("(", 100000), -1},
		{in1000, 2},
		{in1001, -1},
		{worst, 1}, // an even number of NOTs: id = 7
	} {
		matched, accepted := exercise(t, db, tc.expr)
		switch {
		case tc.match < 0 && accepted:
			t.Errorf("%q accepted", clip(tc.expr, 60))
		case tc.match >= 0 && !accepted:
			_, err := ParseFilter(tc.expr)
			t.Errorf("%q rejected: %v", clip(tc.expr, 60), err)
		case tc.match >= 0 && matched != tc.match:
			t.Errorf("%q matched %d runs, want %d", clip(tc.expr, 60), matched, tc.match)
		}
		if f, err := ParseFilter(tc.expr); err == nil {
			where, _ := f.SQL()
			for _, bad := range []string{"DROP", "UNION", "1=1", "sqlite", "--", ";", "DELETE", "ключ"} {
				if strings.Contains(where, bad) {
					t.Errorf("%q: SQL contains %q:\n%s", clip(tc.expr, 60), bad, where)
				}
			}
		}
	}
	if n, err := db.Runs().Count(); err != nil || n != total {
		t.Errorf("runs after the attacks: %d, %v; want %d", n, err, total)
	}
	if after := schemaDump(t, db.sql); after != before {
		t.Errorf("schema changed:\n%s", after)
	}
}

func TestFuzzSeedsRun(t *testing.T) {
	db := fixture(t)
	for _, s := range fuzzSeeds {
		exercise(t, db, s)
	}
}
